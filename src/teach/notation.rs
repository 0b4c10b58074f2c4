//! The answer's notation, on demand. The app numbers every layer, its
//! ReLU included (conv2 = L4 receives D5, hands down D4; relu2 applies its
//! ReLU′ in a step of its own). The answer to the question folds a conv or
//! dense layer and the activation after it into one layer: "at L5 you hold
//! D6; dF = x ⋆ D6; D5 = full_conv(D6, rot180 F) ⊙ f′". `Numbering` is the
//! one chosen, and the only source of layer numbers and delta names on
//! screen, so the two never meet.

use crate::engine::layers::LayerKind;
use crate::i18n::tr;

/// The delta a layer hands down is `D{i+1}` (layer `i`, counted from 0, is
/// the app's L{i+1}); the loss's delta is `D{n+1}`.
pub fn delta_name(i: usize) -> String {
    format!("D{}", i + 1)
}

/// The one numbering on screen: the app's own (every layer its number,
/// ReLU and pooling included) or the answer's (a conv or dense layer and
/// the activation after it one layer). Every layer number and delta name
/// the views, the strip, the headings and the lesson print comes from here,
/// so the two never meet on one screen.
#[derive(Debug, Clone)]
pub struct Numbering {
    /// The answer's number of every layer; `None`: the app's.
    folded: Option<Vec<usize>>,
    kinds: Vec<LayerKind>,
}

impl Numbering {
    pub fn new(kinds: &[LayerKind], answer: bool) -> Numbering {
        Numbering {
            folded: answer.then(|| folded(kinds)),
            kinds: kinds.to_vec(),
        }
    }

    /// Whether this is the answer's numbering.
    pub fn is_answer(&self) -> bool {
        self.folded.is_some()
    }

    /// Layer `i`'s number (from 1).
    pub fn layer(&self, i: usize) -> usize {
        match &self.folded {
            Some(k) => k.get(i).copied().unwrap_or(i + 1),
            None => i + 1,
        }
    }

    /// The gradient at position `p`, between layer `p − 1` and layer `p`
    /// (0: the network's input; the layer count: the logits): the delta
    /// layer `p` hands down, or the one layer `p − 1` receives.
    ///
    /// The app's numbering calls it `D{p+1}`. The answer's names the delta
    /// at the output of its layer L_k `D{k+1}`, where a conv or dense
    /// layer's output is taken before its activation (at L_k you hold
    /// D_{k+1} = ∂L/∂z_k); between such a layer's activation and the layer
    /// above, the answer has no D: it is ∂L/∂a_k, which the activation's
    /// ⊙ f′ turns into D_{k+1}.
    pub fn delta(&self, p: usize) -> String {
        let Some(folded) = &self.folded else {
            return delta_name(p);
        };
        if p == 0 {
            return "D1".into();
        }
        let producer = p - 1;
        let k = folded.get(producer).copied().unwrap_or(p);
        if joins_below(&self.kinds, producer) {
            format!("∂L/∂a{k}")
        } else {
            format!("D{}", k + 1)
        }
    }

    /// The layer as the status line names it: `conv2 (L4)`.
    pub fn named(&self, names: &[String], i: usize) -> String {
        format!("{} (L{})", names[i], self.layer(i))
    }

    /// Whether layer `i` is an activation the answer folds into the layer
    /// below it (stepping moves through both at once).
    pub fn folded_activation(&self, i: usize) -> bool {
        self.folded.is_some() && joins_below(&self.kinds, i)
    }
}

fn is_activation(kind: &LayerKind) -> bool {
    matches!(kind, LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh)
}

/// Whether layer `i` is an activation right after a conv or dense layer:
/// the answer counts the two as one layer.
fn joins_below(kinds: &[LayerKind], i: usize) -> bool {
    i > 0
        && kinds.get(i).is_some_and(is_activation)
        && matches!(
            kinds[i - 1],
            LayerKind::Conv { .. } | LayerKind::Dense { .. }
        )
}

/// The answer's layer number (from 1) of every layer: an activation right
/// after a conv or dense layer shares its number.
pub fn folded(kinds: &[LayerKind]) -> Vec<usize> {
    let mut numbers = Vec::with_capacity(kinds.len());
    let mut k = 0;
    for i in 0..kinds.len() {
        if !joins_below(kinds, i) {
            k += 1;
        }
        numbers.push(k);
    }
    numbers
}

/// The toggle's label.
pub fn toggle_label() -> &'static str {
    tr("The answer's notation (conv + ReLU as one layer)")
}

/// `v` with `digits` significant digits and its own magnitude: `−0.052`,
/// `0.98`, `12`, and below 0.01 (or from 10⁴) in e-notation, `5.4e−3`.
pub fn own_magnitude(v: f32, digits: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let digits = digits.max(1);
    let a = f64::from(v).abs();
    // The rounded value decides the magnitude (0.0999 at two digits is 0.10).
    let rounded = format!("{:.*e}", digits - 1, f64::from(v));
    let magnitude = rounded
        .split_once('e')
        .and_then(|(_, e)| e.parse::<i32>().ok())
        .unwrap_or_else(|| a.log10().floor() as i32);
    let text = if (-2..4).contains(&magnitude) {
        let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
        format!("{:.*}", decimals, f64::from(v))
    } else {
        rounded
    };
    text.replace('-', "−")
}

/// A tensor index as the formulas write it: `[0,0,1,1]`.
pub fn indices(index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(usize::to_string).collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::network::preset_specs;

    #[test]
    fn the_question_s_network_in_the_answer_s_numbering() {
        let kinds: Vec<LayerKind> = preset_specs("seed")
            .unwrap()
            .into_iter()
            .map(|s| s.kind)
            .collect();
        // conv1+relu1, pool1, conv2+relu2, pool2, flatten, fc1+relu3, fc2
        assert_eq!(folded(&kinds), vec![1, 1, 2, 3, 3, 4, 5, 6, 6, 7]);
    }

    /// Worked by hand from the answer: at L3 (conv2) you hold D4 = ∂L/∂z3
    /// and compute D3 = full_conv(D4, rot180 F) (pool1 has no f′); fc2 (L7)
    /// holds the loss's D8 and hands relu3 ∂L/∂a6, which ⊙ f′ makes D7.
    #[test]
    fn every_delta_has_one_name_in_each_numbering() {
        let kinds: Vec<LayerKind> = preset_specs("seed")
            .unwrap()
            .into_iter()
            .map(|s| s.kind)
            .collect();
        let answer = Numbering::new(&kinds, true);
        let names: Vec<String> = (0..=kinds.len()).map(|p| answer.delta(p)).collect();
        assert_eq!(
            names,
            [
                "D1",
                "D2",
                "∂L/∂a1",
                "D3",
                "D4",
                "∂L/∂a3",
                "D5",
                "D6",
                "D7",
                "∂L/∂a6",
                "D8"
            ]
        );
        // conv2 (layer 3): receives the delta at position 4, hands down 3.
        assert_eq!(
            (answer.delta(4), answer.delta(3)),
            ("D4".into(), "D3".into())
        );
        assert_eq!(answer.layer(3), 3);
        assert_eq!(answer.layer(4), 3, "relu2 is part of L3");
        assert!(answer.folded_activation(4) && !answer.folded_activation(5));
        // The app's own: conv2 is L4, receives D5 and hands down D4.
        let app = Numbering::new(&kinds, false);
        assert_eq!(
            (app.delta(4), app.delta(3), app.layer(3)),
            ("D5".into(), "D4".into(), 4)
        );
        assert!(!app.folded_activation(4));
    }

    #[test]
    fn numbers_are_printed_with_their_own_magnitude() {
        use super::own_magnitude;
        for (v, digits, text) in [
            (-0.052132, 2, "−0.052"),
            (0.98430, 2, "0.98"),
            (0.0054, 2, "5.4e−3"),
            (-0.0054321, 3, "−5.43e−3"),
            (1.1031, 4, "1.103"),
            (0.0999, 2, "0.10"),
            (12.34, 2, "12"),
            (0.0, 3, "0"),
            (123456.0, 3, "1.23e5"),
            (0.010, 2, "0.010"),
        ] {
            assert_eq!(own_magnitude(v, digits), text, "{v} at {digits} digits");
        }
        assert_eq!(super::indices(&[0, 0, 8, 6]), "[0,0,8,6]");
    }
}
