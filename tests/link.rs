//! A moment of training as a link: made in one window, opened in another,
//! the same batch, phase, numbers, sample, cell, tab and language; bad
//! links are refused with the field named.

use backprop_viz::app::link::Moment;
use backprop_viz::app::{Tab, UiCommand};
use backprop_viz::engine::stepper::Phase;
use backprop_viz::explain::CellRef;
use backprop_viz::i18n::Lang;

mod app_common;
use app_common::{harness, new_app, settle, snapshot};

#[test]
fn a_shared_moment_replays_to_the_same_numbers() {
    let mut h = harness(new_app());
    settle(&mut h);
    // Batch 1 whole, then batch 2 layer by layer to conv2's backward step.
    h.state_mut().command(UiCommand::StepBatch);
    settle(&mut h);
    for _ in 0..(10 + 1 + 7) {
        h.state_mut().command(UiCommand::StepPhase);
        settle(&mut h);
    }
    assert_eq!(snapshot(&h).last, Some(Phase::Backward(3)));
    h.state_mut().command(UiCommand::PickSample(5));
    let cell = CellRef::WeightGrad {
        layer: 3,
        index: vec![0, 0, 1, 1],
    };
    h.state_mut().command(UiCommand::Select(Some(cell.clone())));
    h.state_mut().settings.lang = Lang::Ru;
    h.run_steps(3);
    let m = h.state().moment().unwrap();
    let link = m.to_fragment();
    assert_eq!(
        link,
        "#preset=seed&seed=1&batch=16&lr=0.05&opt=sgd&step=2&phase=backward:conv2&sample=5&cell=dF:0,0,1,1&tab=backprop&lang=ru"
    );
    assert_eq!(
        Moment::parse(&format!("https://example.org/app/{link}")).unwrap(),
        m
    );

    let mut other = harness(new_app());
    settle(&mut other);
    other.state_mut().command(UiCommand::OpenMoment(Box::new(
        Moment::parse(&link).unwrap(),
    )));
    settle(&mut other);
    let (a, b) = (snapshot(&h), snapshot(&other));
    assert_eq!((b.batches, b.last), (a.batches, a.last));
    assert_eq!(
        b.trace.layers[3].weight_grad, a.trace.layers[3].weight_grad,
        "dF bit for bit"
    );
    assert_eq!(b.trace.layers[3].delta, a.trace.layers[3].delta);
    assert_eq!(b.trace.loss, a.trace.loss);
    let app = other.state();
    assert_eq!(app.sample, 5);
    assert_eq!(app.selected, Some(cell));
    assert_eq!(app.tab, Tab::Backprop);
    assert_eq!(app.settings.lang, Lang::Ru);
}

#[test]
fn bad_links_name_the_field() {
    for (link, field) in [
        ("#preset=/etc/passwd", "/etc/passwd"),
        ("#seed=x", "seed=x"),
        ("#batch=0", "batch=0"),
        ("#lr=-1", "lr=-1"),
        ("#step=999999999", "step=999999999"),
        ("#phase=backward:conv9", "phase=backward:conv9"),
        ("#cell=dF:0,0", "cell=dF:0,0"),
        ("#batch=4&sample=4", "sample=4"),
        ("#wat=1", "wat"),
        ("#lang=fr", "lang=fr"),
    ] {
        let e = Moment::parse(link).unwrap_err();
        assert!(e.contains(field), "{link}: {e}");
    }
    assert!(Moment::parse(&"#seed=1&".repeat(400)).is_err());
}
