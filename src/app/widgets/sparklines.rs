//! Learning over time, one tap at a time: a K×K grid of sparklines laid out
//! as the filter is, each the tap's value after every batch kept (the run's
//! first batches all, then every 2nd, 4th…). Each cell prints its latest
//! value; the zero line is drawn where it falls. A filter's taps each get
//! their own vertical scale (a tap of 1.1 beside taps of 0.05 would flatten
//! them: what matters is how each one moves); gradients share one, so that
//! their sizes and signs compare.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::heatmap::fmt_value;

/// The sparklines of one filter: `series[u * k + v]` over `batches`.
pub struct Sparklines<'a> {
    pub title: String,
    pub batches: &'a [u64],
    pub series: &'a [Vec<f32>],
    pub k: usize,
    pub colour: Color32,
    /// One vertical scale for every tap (else each its own).
    pub shared: bool,
}

/// The smallest and largest finite value of `values`.
fn bounds<'v>(values: impl IntoIterator<Item = &'v f32>) -> (f32, f32) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The height a grid of `k` rows takes at `cell` points a row.
pub fn grid_height(k: usize, cell: f32) -> f32 {
    k as f32 * cell + 22.0
}

impl Sparklines<'_> {
    /// Draws the grid in cells of `cell` (width, height), its title above.
    pub fn show(self, ui: &mut Ui, cell: Vec2) -> egui::Response {
        ui.label(egui::RichText::new(&self.title).strong());
        let size = cell * self.k as f32;
        let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
        let (lo, hi) = bounds(self.series.iter().flatten());
        // Read out whether drawn or scrolled away: every tap's latest value.
        let label: Vec<String> = self
            .series
            .iter()
            .enumerate()
            .filter_map(|(t, s)| {
                let (u, v) = (t / self.k, t % self.k);
                Some(format!("[{u},{v}] {}", fmt_value(*s.last()?)))
            })
            .collect();
        response.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::Role::Image,
                true,
                format!("{} {}", self.title, label.join(" ")),
            )
        });
        if !ui.is_rect_visible(rect) || !lo.is_finite() || !hi.is_finite() {
            return response;
        }
        let span = (hi - lo).max(1e-12);
        let (first, last) = (
            *self.batches.first().unwrap_or(&0) as f32,
            *self.batches.last().unwrap_or(&1) as f32,
        );
        let length = (last - first).max(1.0);
        let painter = ui.painter_at(rect);
        let visuals = ui.visuals();
        let font = egui::FontId::monospace(11.0);
        for (t, series) in self.series.iter().enumerate().take(self.k * self.k) {
            let (u, v) = (t / self.k, t % self.k);
            let r = Rect::from_min_size(
                rect.min + Vec2::new(v as f32 * cell.x, u as f32 * cell.y),
                cell,
            )
            .shrink(2.0);
            painter.rect_filled(r, 2.0, visuals.extreme_bg_color);
            let (lo, span) = if self.shared {
                (lo, span)
            } else {
                let (l, h) = bounds(series);
                // A tap that never moved is a flat line in the middle.
                let span = (h - l).max(1e-6 * h.abs().max(l.abs())).max(1e-12);
                (if h > l { l } else { l - span / 2.0 }, span)
            };
            // The line keeps clear of the value printed at the top.
            let plot = Rect::from_min_max(r.min + Vec2::new(0.0, 13.0), r.max);
            let y_of = |value: f32| plot.bottom() - (value - lo) / span * plot.height();
            if lo < 0.0 && lo + span > 0.0 {
                painter.hline(
                    r.x_range(),
                    y_of(0.0),
                    Stroke::new(1.0, visuals.weak_text_color()),
                );
            }
            let points: Vec<Pos2> = series
                .iter()
                .zip(self.batches)
                .map(|(&value, &b)| {
                    Pos2::new(
                        plot.left() + (b as f32 - first) / length * plot.width(),
                        y_of(value),
                    )
                })
                .collect();
            painter.add(egui::Shape::line(points, Stroke::new(1.5, self.colour)));
            if let Some(&now) = series.last() {
                painter.text(
                    r.right_top() + Vec2::new(-2.0, 1.0),
                    egui::Align2::RIGHT_TOP,
                    fmt_value(now),
                    font.clone(),
                    visuals.text_color(),
                );
            }
        }
        response.on_hover_text(crate::trf!(
            "{title}: from {lo} to {hi} over batches {first} to {last}",
            title = self.title,
            lo = fmt_value(lo),
            hi = fmt_value(hi),
            first = first,
            last = last
        ))
    }
}
