//! The numbers a student reads off the screen make true equations: every
//! number drawn in the loss view's `(p − one_hot) / N = D` and the update
//! view's `F − η·dF = F_new` is read back from the maps (as printed, with
//! the power of ten their title states) and the equation is checked within
//! the rounding of what is printed, at 1600x1000 and on a 1280x720
//! projector. A mantissa shown without its power of ten, as before, makes
//! these fail (`(0.09 − 0)/16 = 0.6`).

use backprop_viz::app::{BackpropApp, UiCommand};
use backprop_viz::engine::stepper::Phase;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod app_common;
use app_common::{settle, sized, snapshot};

/// A number as printed and the half of its last digit's unit: what it can
/// be off by. `−5.4e−3` is −0.0054 ± 0.00005.
fn read(text: &str, factor: f64) -> (f64, f64) {
    let plain = text.replace('−', "-");
    let (mantissa, exponent) = match plain.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().expect("an exponent")),
        None => (plain.clone(), 0),
    };
    let value: f64 = mantissa
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"));
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let scale = 10f64.powi(exponent) * factor;
    (value * scale, 0.5 * 10f64.powi(-decimals) * scale)
}

/// The numbers printed in the map whose title starts with `title`, as
/// values with their rounding.
fn printed(h: &Harness<'static, BackpropApp>, title: &str) -> Vec<(f64, f64)> {
    let node = h
        .query_all_by(|n| n.role() == Role::Image)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with(title))
        })
        .unwrap_or_else(|| panic!("no map titled {title:?}"));
    let value = node
        .accesskit_node()
        .value()
        .expect("a description")
        .to_string();
    let (_, numbers) = value
        .splitn(3, "; ")
        .nth(2)
        .and_then(|rest| rest.split_once(": "))
        .unwrap_or_else(|| panic!("{title:?} prints no numbers: {value:?}"));
    let power = value
        .splitn(3, "; ")
        .nth(2)
        .unwrap()
        .split(": ")
        .next()
        .unwrap();
    let factor = match power {
        "" => 1.0,
        p => {
            const SUPER: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
            let digits: String = p
                .trim_start_matches("×10")
                .chars()
                .map(|c| match c {
                    '⁻' => '-',
                    c => SUPER
                        .iter()
                        .position(|&s| s == c)
                        .map_or(c, |d| char::from(b'0' + d as u8)),
                })
                .collect();
            10f64.powi(digits.parse().unwrap_or_else(|_| panic!("power {p:?}")))
        }
    };
    numbers.split(' ').map(|n| read(n, factor)).collect()
}

fn check_loss(h: &Harness<'static, BackpropApp>, what: &str) {
    let n = snapshot(h).trace.batch_size() as f64;
    let p = printed(h, "p");
    let one_hot = printed(h, "one_hot");
    let d = printed(h, "D11");
    assert_eq!((p.len(), one_hot.len(), d.len()), (10, 10, 10), "{what}");
    for k in 0..10 {
        let ((p, ep), (y, ey), (d, ed)) = (p[k], one_hot[k], d[k]);
        let left = (p - y) / n;
        assert!(
            (left - d).abs() <= (ep + ey) / n + ed + 1e-12,
            "{what}: digit {k}: ({p} − {y}) / {n} = {left} is not the {d} printed (±{ed})"
        );
    }
}

fn check_update(h: &Harness<'static, BackpropApp>, what: &str) {
    let before = printed(h, "F before");
    let step = printed(h, "η·dF");
    let after = printed(h, "F new");
    assert_eq!(before.len(), step.len(), "{what}");
    assert_eq!(before.len(), after.len(), "{what}");
    // F and F new are printed finely enough to show the step: the
    // largest step is more than a printed digit of either.
    let largest = step.iter().fold(0.0f64, |m, (s, _)| m.max(s.abs()));
    for (k, ((_, ef), (_, ea))) in before.iter().zip(&after).enumerate() {
        assert!(
            ef.max(*ea) * 2.0 <= largest,
            "{what}: weight {k} printed to ±{} and ±{}, coarser than the step {largest}",
            ef,
            ea
        );
    }
    for (k, (((f, ef), (s, es)), (a, ea))) in before.iter().zip(&step).zip(&after).enumerate() {
        assert!(
            (f - s - a).abs() <= ef + es + ea + 1e-12,
            "{what}: weight {k}: {f} − {s} = {} is not the {a} printed",
            f - s
        );
    }
}

#[test]
fn the_loss_and_the_update_print_true_equations() {
    for (size, projector) in [
        (egui::vec2(1600.0, 1000.0), false),
        (egui::vec2(1280.0, 720.0), true),
    ] {
        let what = format!("{size:?} projector {projector}");
        let mut h = sized(size, projector, backprop_viz::i18n::Lang::En);
        h.state_mut().command(UiCommand::GoTo(Phase::Loss));
        settle(&mut h);
        h.run_steps(3);
        check_loss(&h, &what);
        h.state_mut().command(UiCommand::GoTo(Phase::Update));
        settle(&mut h);
        h.run_steps(3);
        check_update(&h, &what);
    }
}

#[test]
fn printed_numbers_read_back() {
    assert_eq!(read("−5.4e−3", 1.0).0, -0.0054);
    assert!((read("53", 1e-4).0 - 0.0053).abs() < 1e-15);
    assert!((read("0.98", 1.0).1 - 0.005).abs() < 1e-15);
}
