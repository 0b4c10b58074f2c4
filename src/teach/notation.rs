//! The answer's notation, on demand. The app numbers every layer, its
//! ReLU included (conv2 = L4 receives D5, hands down D4; relu2 applies its
//! ReLU′ in a step of its own). The answer to the question folds a conv or
//! dense layer and the activation after it into one layer: "at L5 you hold
//! D6; dF = x ⋆ D6; D5 = full_conv(D6, rot180 F) ⊙ f′". This module maps the
//! one numbering onto the other, so both can be read on screen.

use crate::engine::layers::LayerKind;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::trf;

/// The delta a layer hands down is `D{i+1}` (layer `i`, counted from 0, is
/// the app's L{i+1}); the loss's delta is `D{n+1}`.
pub fn delta_name(i: usize) -> String {
    format!("D{}", i + 1)
}

fn is_activation(kind: &LayerKind) -> bool {
    matches!(kind, LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh)
}

/// The answer's layer number (from 1) of every layer: an activation right
/// after a conv or dense layer shares its number.
pub fn folded(kinds: &[LayerKind]) -> Vec<usize> {
    let mut numbers = Vec::with_capacity(kinds.len());
    let mut k = 0;
    for (i, kind) in kinds.iter().enumerate() {
        let joins = i > 0
            && is_activation(kind)
            && matches!(
                kinds[i - 1],
                LayerKind::Conv { .. } | LayerKind::Dense { .. }
            );
        if !joins {
            k += 1;
        }
        numbers.push(k);
    }
    numbers
}

/// A conv or dense layer's step in the answer's words.
pub struct Answer {
    /// `L3`
    pub layer: String,
    /// The delta the layer holds (`D4`) and the one it computes (`D3`).
    pub holds: String,
    pub computes: String,
    /// One line relating them to the app's own names.
    pub mapping: String,
}

/// The answer's names for conv or dense layer `i` of `t`.
pub fn answer(t: &Trace, i: usize) -> Option<Answer> {
    if !matches!(t.kinds[i], LayerKind::Conv { .. } | LayerKind::Dense { .. }) {
        return None;
    }
    let k = folded(&t.kinds)[i];
    let ours = delta_name;
    let activation = t
        .kinds
        .get(i + 1)
        .filter(|kind| is_activation(kind))
        .map(|_| t.names[i + 1].clone());
    let holds = format!("D{}", k + 1);
    let computes = format!("D{k}");
    let mapping = match activation {
        Some(act) => trf!(
            "In the answer's numbering {name} with {act} is L{k}. The {holds} it holds is our {ours_in}: the delta after {act}'s ReLU′. The {computes} it computes is our {ours_out}; the answer's ⊙ f′ is applied by the layer below's activation, as its own step here.",
            name = t.names[i],
            act = act,
            k = k,
            holds = holds,
            ours_in = ours(i + 1),
            computes = computes,
            ours_out = ours(i)
        ),
        None => trf!(
            "In the answer's numbering {name} is L{k}: the {holds} it holds is our {ours_in}, the {computes} it computes our {ours_out}.",
            name = t.names[i],
            k = k,
            holds = holds,
            ours_in = ours(i + 1),
            computes = computes,
            ours_out = ours(i)
        ),
    };
    Some(Answer {
        layer: format!("L{k}"),
        holds,
        computes,
        mapping,
    })
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
