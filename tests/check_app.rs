//! *Check my backprop* in the app (egui_kittest): a student's tensors
//! handed in are checked against the step on screen, the mistake is named
//! in the UI's language, the student's map is drawn beside the engine's
//! and their difference, and the views open on the first wrong cell.

use backprop_viz::app::{Tab, UiCommand};
use backprop_viz::check::{candidates, Mistake, Named, Part};
use backprop_viz::i18n::Lang;
use backprop_viz::io::file::Input;
use backprop_viz::io::handin::npy_bytes;
use backprop_viz::io::tensor_csv;
use backprop_viz::teach::explain::CellRef;
use egui_kittest::kittest::Queryable;

mod app_common;
use app_common::{harness, new_app, set_settings, settle, settle_until, snapshot};

#[test]
fn a_spread_pool_delta_is_named_drawn_and_opened_in_the_views() {
    for lang in Lang::ALL {
        let mut h = harness(new_app());
        set_settings(&mut h, |s| s.lang = lang);
        settle(&mut h);
        // The step's backward pass is needed: checking before it says so.
        h.state_mut().command(UiCommand::HandIn(Vec::new()));
        h.run_steps(2);
        assert!(h.state().checked.is_none());
        assert!(h.state().message_text().is_some());
        h.state_mut()
            .command(backprop_viz::app::UiCommand::StepBatch);
        settle(&mut h);
        let s = snapshot(&h);
        let trace = &s.trace;
        let pool2 = trace.names.iter().position(|n| n == "pool2").unwrap();
        let conv2 = trace.names.iter().position(|n| n == "conv2").unwrap();
        // A student who spread pool2's delta over each window, and got
        // conv2's dF right (handed in as the app's own CSV export).
        let spread = candidates(trace, Named::Layer(pool2, Part::Delta))
            .into_iter()
            .find(|(m, _)| *m == Mistake::PoolSpread)
            .unwrap()
            .1;
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("pool2.delta.npy");
        std::fs::write(&npy, npy_bytes(&spread.mapv(|v| v as f32))).unwrap();
        let csv = dir.path().join("conv2.weight_grad.csv");
        let df = trace.layers[conv2].weight_grad.as_ref().unwrap();
        std::fs::write(&csv, tensor_csv(df)).unwrap();
        h.state_mut()
            .command(UiCommand::HandIn(vec![Input::path(csv), Input::path(npy)]));
        settle_until(&mut h, |app| app.checked.is_some());
        settle(&mut h);

        let app = h.state();
        let checked = app.checked.as_ref().unwrap();
        // In backward order: pool2's delta comes before conv2's dF.
        let names: Vec<&str> = checked.verdicts.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["pool2.delta", "conv2.weight_grad"]);
        assert!(checked.verdicts[1].ok, "{}", checked.verdicts[1].message());
        assert_eq!(checked.verdicts[0].diagnosis, Some(Mistake::PoolSpread));
        // The views opened on pool2's first wrong cell.
        let (index, _, _) = checked.verdicts[0].worst_wrong.clone().unwrap();
        assert_eq!(app.tab, Tab::Backprop);
        assert_eq!(app.view_layer, Some(pool2));
        assert_eq!(
            app.selected,
            Some(CellRef::Delta {
                layer: pool2,
                index: index.clone()
            })
        );
        assert_eq!(app.sample, index[0]);
        // The mistake in words, in the UI's language, on screen.
        let words = match lang {
            Lang::En => "spreads each window's delta",
            Lang::Ru => "размазывает",
        };
        let message = h
            .query_all_by(|n| {
                n.value()
                    .or_else(|| n.label())
                    .is_some_and(|t| t.contains(words))
            })
            .count();
        assert!(message > 0, "{lang:?}: the named mistake is not on screen");
        // The three maps side by side, inside the window, not overlapping.
        let names = match lang {
            Lang::En => ["the engine's", "yours", "yours − the engine's"],
            Lang::Ru => ["движок", "ваш", "ваш − движок"],
        };
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0));
        let rects: Vec<egui::Rect> = names
            .iter()
            // The map itself: the largest of the nodes named so (its title
            // is one too).
            .map(|name| {
                h.query_all_by_label(name)
                    .map(|n| n.rect())
                    .max_by(|a, b| a.area().total_cmp(&b.area()))
                    .unwrap()
            })
            .collect();
        for (name, r) in names.iter().zip(&rects) {
            assert!(screen.contains_rect(*r), "{name} at {r:?}");
            assert!(r.width() >= 60.0 && r.height() >= 60.0, "{name} is {r:?}");
        }
        assert!(rects[0].right() <= rects[1].left() && rects[1].right() <= rects[2].left());
        assert!(
            backprop_viz::i18n::misses().is_empty(),
            "untranslated: {:?}",
            backprop_viz::i18n::misses()
        );
    }
}
