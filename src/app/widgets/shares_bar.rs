//! The batch's dF at one tap as the sum it is: every sample's share a
//! segment of one bar, the positive ones stacked to the right of zero, the
//! negative ones to the left, and a tick where they net out (the batch's
//! value). The shares are the engine's own (`weight_grad_shares`, each
//! sample's dF from the layer's backward pass), so the bar adds up to the
//! number on the dF map. Hovering a segment names its sample and value; a
//! click shows that sample in the views.

use egui::{Color32, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};

use crate::app::widgets::heatmap::{fmt_value, text_on, ColorScale};
use crate::i18n::tr;
use crate::trf;

/// What a click on the bar asks for.
pub struct SharesResponse {
    /// The sample whose segment was clicked.
    pub clicked: Option<usize>,
}

/// The bar for `shares` (one per sample), `total` the batch's value as the
/// trace holds it, `shown` the sample the views show (outlined).
pub fn shares_ui(ui: &mut Ui, shares: &[f32], total: f32, shown: usize) -> SharesResponse {
    let mut out = SharesResponse { clicked: None };
    if shares.is_empty() {
        return out;
    }
    let positive: f32 = shares.iter().filter(|v| **v > 0.0).sum();
    let negative: f32 = shares.iter().filter(|v| **v < 0.0).sum();
    let span = (positive - negative).max(f32::MIN_POSITIVE);
    let width = ui.available_width().max(120.0);
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, 30.0), Sense::click());
    let bar = Rect::from_min_max(
        rect.min + Vec2::new(0.0, 4.0),
        rect.max - Vec2::new(0.0, 8.0),
    );
    let x_of = |v: f32| bar.left() + (v - negative) / span * bar.width();
    let scale = ColorScale::diverging(shares);
    let painter = ui.painter_at(rect.expand(2.0));
    // Negative shares from zero leftwards, positive from zero rightwards,
    // each in sample order: every segment as wide as its share.
    let mut segments = Vec::with_capacity(shares.len());
    let (mut left, mut right) = (0.0f32, 0.0f32);
    for (n, &v) in shares.iter().enumerate() {
        let (a, b) = if v < 0.0 {
            left += v;
            (left, left - v)
        } else {
            right += v;
            (right - v, right)
        };
        let segment = Rect::from_x_y_ranges(x_of(a)..=x_of(b), bar.y_range());
        painter.rect_filled(segment, 0.0, scale.color(v));
        painter.rect_stroke(
            segment,
            0.0,
            Stroke::new(0.5, ui.visuals().extreme_bg_color),
            StrokeKind::Inside,
        );
        segments.push((n, segment));
    }
    if let Some((_, segment)) = segments.iter().find(|(n, _)| *n == shown) {
        painter.rect_stroke(
            *segment,
            0.0,
            Stroke::new(2.0, crate::app::widgets::heatmap::SELECTION),
            StrokeKind::Outside,
        );
        // The shown sample's number inside its segment when it fits.
        let text = fmt_value(shares[shown]);
        if segment.width() > 9.0 * text.chars().count() as f32 {
            painter.text(
                segment.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::monospace(12.0),
                text_on(scale.color(shares[shown])),
            );
        }
    }
    // Zero, and the tick where the shares net out: the batch's dF.
    let zero = x_of(0.0);
    painter.vline(
        zero,
        bar.y_range(),
        Stroke::new(1.0, ui.visuals().text_color()),
    );
    let sum = x_of(total);
    painter.line_segment(
        [
            egui::pos2(sum, bar.top() - 3.0),
            egui::pos2(sum, rect.bottom()),
        ],
        Stroke::new(2.5, Color32::from_rgb(250, 190, 40)),
    );
    let hovered = response.hover_pos().and_then(|p| {
        segments
            .iter()
            .find(|(_, s)| s.contains(p))
            .map(|(n, _)| *n)
    });
    if let Some(n) = hovered {
        response.clone().on_hover_text(trf!(
            "sample {n}: {value}",
            n = n,
            value = fmt_value(shares[n])
        ));
    }
    if response.clicked() {
        out.clicked = hovered;
    }
    ui.label(trf!(
        "{count} samples' shares: {positive} pull up, {negative} pull down; they net out at {total}, the batch's dF (the orange tick)",
        count = shares.len(),
        positive = fmt_value(positive),
        negative = fmt_value(negative),
        total = fmt_value(total)
    ))
    .on_hover_text(tr("Each segment is one sample's share of this tap's gradient, as the engine's backward pass made it; click one to show that sample"));
    out
}
