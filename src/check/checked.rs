//! A hand-in checked against a step: every tensor a student handed in (or
//! a teacher's bug revealed), its verdict, the trace's tensor beside it, and
//! which of them is being looked at. The app draws it
//! (`app/panels/checked.rs`); the command line prints the verdicts alone.

use ndarray::ArrayD;

use super::{check, traced, Named, NotInTrace, Part, Verdict};
use crate::engine::trace::Trace;
use crate::io::Handed;
use crate::teach::explain::CellRef;

/// One hand-in, checked.
pub struct Checked {
    pub verdicts: Vec<Verdict>,
    /// What was handed in and the trace's tensor, in the verdicts' order.
    pub mine: Vec<ArrayD<f64>>,
    pub right: Vec<ArrayD<f64>>,
    pub named: Vec<Named>,
    /// The step checked against (the app's batch count then).
    pub batch: u64,
    /// The tensor drawn, and the leading indices of its slice on screen.
    pub chosen: usize,
    pub at: Vec<usize>,
    /// The row of a wide matrix drawn (a dense layer's dW, one output's
    /// weights as the square image they read).
    pub row: usize,
    /// Folded to one line, so the views it opened have the room.
    pub folded: bool,
    /// A teacher's bug revealed (the app's own wrong backprop), not a
    /// student's hand-in: the maps are titled so.
    pub bug: bool,
}

impl Checked {
    /// Checks every tensor handed in against `trace`; a name the trace does
    /// not have is the error.
    pub fn new(trace: &Trace, mut handed: Vec<Handed>, batch: u64) -> Result<Checked, NotInTrace> {
        // In the order backpropagation computes them, from the loss down: the
        // first wrong one is where a student's mistake starts.
        let order = |h: &Handed| match Named::parse(trace, &h.name) {
            Some(Named::LogitsDelta) => (0, 0),
            Some(Named::Layer(i, part)) => (
                trace.layers.len() - i,
                match part {
                    Part::WeightGrad => 0,
                    Part::BiasGrad => 1,
                    Part::Delta => 2,
                    _ => 3,
                },
            ),
            _ => (usize::MAX, 0),
        };
        handed.sort_by_key(order);
        let mut checked = Checked {
            verdicts: Vec::new(),
            mine: Vec::new(),
            right: Vec::new(),
            named: Vec::new(),
            batch,
            chosen: 0,
            at: Vec::new(),
            row: 0,
            folded: false,
            bug: false,
        };
        for h in handed {
            let verdict = check(trace, &h)?;
            let named = Named::parse(trace, &h.name).expect("check found it");
            checked
                .right
                .push(traced(trace, named).expect("check found it"));
            checked.named.push(named);
            checked.mine.push(h.values);
            checked.verdicts.push(verdict);
        }
        if let Some(first) = checked.verdicts.iter().position(|v| !v.ok) {
            checked.choose(first);
        }
        Ok(checked)
    }

    /// Shows tensor `k`, at the slice of its first wrong cell.
    pub fn choose(&mut self, k: usize) {
        self.chosen = k;
        let v = &self.verdicts[k];
        let lead = leading_dims(&v.expected_shape);
        self.at = match &v.worst_wrong {
            Some((index, _, _)) => index[..lead].to_vec(),
            None => vec![0; lead],
        };
        self.row = v.worst_wrong.as_ref().map_or(0, |(index, _, _)| index[0]);
    }

    /// How many match.
    pub fn matched(&self) -> usize {
        self.verdicts.iter().filter(|v| v.ok).count()
    }

    /// The cell of the views that holds the chosen tensor's first wrong
    /// value (weight gradients and deltas; biases have no cell).
    pub fn worst_wrong_cell(&self) -> Option<(CellRef, Option<usize>)> {
        let v = &self.verdicts[self.chosen];
        let (index, _, _) = v.worst_wrong.as_ref()?;
        match self.named[self.chosen] {
            Named::Layer(layer, Part::WeightGrad) => Some((
                CellRef::WeightGrad {
                    layer,
                    index: index.clone(),
                },
                None,
            )),
            Named::Layer(layer, Part::Delta) => Some((
                CellRef::Delta {
                    layer,
                    index: index.clone(),
                },
                Some(index[0]),
            )),
            _ => None,
        }
    }
}

/// The axes picked one index at a time; the last two (or the one) are drawn.
pub fn leading_dims(shape: &[usize]) -> usize {
    shape.len().saturating_sub(2)
}
