//! The heatmap widget: a grid of numbers as coloured cells, with the numbers
//! printed when cells are large enough and always on hover; clicking a cell
//! reports it. Deltas and gradients use a diverging map centred on zero
//! (blue negative, white zero, red positive); images and activations a grey
//! ramp. Follows egui's toggle_switch.rs: size, allocate, interact, paint.

use egui::{Color32, FontId, Pos2, Rect, Response, Sense, Stroke, Ui, Vec2};

/// How values map to colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColorScale {
    /// Symmetric around 0: `−max_abs` blue, 0 white, `+max_abs` red.
    Diverging { max_abs: f32 },
    /// `min` black to `max` white.
    Sequential { min: f32, max: f32 },
}

const NEGATIVE: [f32; 3] = [33.0, 102.0, 172.0];
const ZERO: [f32; 3] = [247.0, 247.0, 247.0];
const POSITIVE: [f32; 3] = [178.0, 24.0, 43.0];
/// Orange for positive in the colour-blind-safe map (blue–orange, as
/// ColorBrewer's PuOr): red and blue alone are hard to tell apart for some.
const POSITIVE_SAFE: [f32; 3] = [230.0, 97.0, 1.0];

/// Which diverging colours deltas and gradients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Palette {
    /// Blue negative, red positive.
    #[default]
    BlueRed,
    /// Blue negative, orange positive: safe for red–green colour blindness.
    BlueOrange,
}

fn palette_id() -> egui::Id {
    egui::Id::unique("backprop-viz palette")
}

/// Chooses the palette for every heatmap drawn with this context.
pub fn set_palette(ctx: &egui::Context, palette: Palette) {
    ctx.data_mut(|d| d.insert_temp(palette_id(), palette));
}

fn palette(ctx: &egui::Context) -> Palette {
    ctx.data(|d| d.get_temp(palette_id())).unwrap_or_default()
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let c = |i: usize| (a[i] + (b[i] - a[i]) * t).round() as u8;
    Color32::from_rgb(c(0), c(1), c(2))
}

impl ColorScale {
    /// A diverging scale fitted to the largest magnitude in `values`.
    pub fn diverging(values: &[f32]) -> ColorScale {
        let max_abs = values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        ColorScale::Diverging { max_abs }
    }

    /// Grey for non-negative data (images, ReLU outputs), diverging when
    /// anything is negative (pre-activations, filters).
    pub fn auto(values: &[f32]) -> ColorScale {
        let finite = || values.iter().filter(|v| v.is_finite());
        let min = finite().fold(f32::INFINITY, |m, &v| m.min(v));
        let max = finite().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if min < 0.0 || !min.is_finite() {
            ColorScale::diverging(values)
        } else {
            ColorScale::Sequential {
                min: 0.0,
                max: max.max(1e-12),
            }
        }
    }

    pub fn color(&self, v: f32) -> Color32 {
        self.color_in(v, Palette::BlueRed)
    }

    pub fn color_in(&self, v: f32, palette: Palette) -> Color32 {
        let positive = match palette {
            Palette::BlueRed => POSITIVE,
            Palette::BlueOrange => POSITIVE_SAFE,
        };
        if !v.is_finite() {
            return Color32::from_rgb(255, 0, 255);
        }
        match *self {
            ColorScale::Diverging { max_abs } => {
                if max_abs <= 0.0 {
                    return mix(ZERO, ZERO, 0.0);
                }
                let t = v / max_abs;
                if t < 0.0 {
                    mix(ZERO, NEGATIVE, -t)
                } else {
                    mix(ZERO, positive, t)
                }
            }
            ColorScale::Sequential { min, max } => {
                let t = ((v - min) / (max - min).max(1e-12)).clamp(0.0, 1.0);
                let g = (t * 255.0).round() as u8;
                Color32::from_gray(g)
            }
        }
    }

    /// The scale's ends, for the legend.
    pub fn range(&self) -> (f32, f32) {
        match *self {
            ColorScale::Diverging { max_abs } => (-max_abs, max_abs),
            ColorScale::Sequential { min, max } => (min, max),
        }
    }
}

/// Text colour that reads on `fill`.
fn text_on(fill: Color32) -> Color32 {
    let l = 0.299 * fill.r() as f32 + 0.587 * fill.g() as f32 + 0.114 * fill.b() as f32;
    if l > 140.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// A number short enough for a cell: 3 significant digits.
pub fn fmt_value(v: f32) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !v.is_finite() {
        format!("{v}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// What happened to a heatmap this frame.
pub struct HeatmapResponse {
    pub response: Response,
    /// The cell clicked, `(row, column)`.
    pub clicked: Option<(usize, usize)>,
}

pub struct Heatmap<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    scale: ColorScale,
    cell: f32,
    label: String,
    selected: Option<(usize, usize)>,
    numbers: bool,
}

impl<'a> Heatmap<'a> {
    /// `values` row-major, `rows × cols`; `label` names it for screen readers
    /// and tests.
    pub fn new(
        values: &'a [f32],
        rows: usize,
        cols: usize,
        label: impl Into<String>,
    ) -> Heatmap<'a> {
        Heatmap {
            values,
            rows,
            cols,
            scale: ColorScale::auto(values),
            cell: 16.0,
            label: label.into(),
            selected: None,
            numbers: true,
        }
    }

    pub fn scale(mut self, scale: ColorScale) -> Self {
        self.scale = scale;
        self
    }

    /// Side of one cell in points.
    pub fn cell_size(mut self, cell: f32) -> Self {
        self.cell = cell;
        self
    }

    /// Fits the map into `max` points (width and height), cells at most `largest`.
    pub fn fit(mut self, max: Vec2, largest: f32) -> Self {
        let by_w = max.x / self.cols.max(1) as f32;
        let by_h = max.y / self.rows.max(1) as f32;
        self.cell = by_w.min(by_h).min(largest).max(1.0);
        self
    }

    pub fn selected(mut self, cell: Option<(usize, usize)>) -> Self {
        self.selected = cell;
        self
    }

    pub fn numbers(mut self, numbers: bool) -> Self {
        self.numbers = numbers;
        self
    }

    pub fn show(self, ui: &mut Ui) -> HeatmapResponse {
        let size = Vec2::new(self.cols as f32, self.rows as f32) * self.cell;
        let (rect, response) = ui.allocate_exact_size(size, Sense::click());
        let label = self.label.clone();
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
        let cell_at = |pos: Pos2| -> Option<(usize, usize)> {
            if !rect.contains(pos) {
                return None;
            }
            let c = ((pos.x - rect.left()) / self.cell) as usize;
            let r = ((pos.y - rect.top()) / self.cell) as usize;
            (r < self.rows && c < self.cols).then_some((r, c))
        };
        let clicked = if response.clicked() {
            response.interact_pointer_pos().and_then(cell_at)
        } else {
            None
        };

        if ui.is_rect_visible(rect) {
            let colours = palette(ui.ctx());
            let painter = ui.painter_at(rect);
            // Numbers are printed when at least a 9-point font fits the
            // widest one (monospace glyphs are ~0.6 em wide).
            let widest = (0..self.rows * self.cols)
                .map(|k| fmt_value(self.values[k]).len())
                .max()
                .unwrap_or(1) as f32;
            let size = ((self.cell - 4.0) / (widest * 0.62))
                .min(self.cell * 0.4)
                .min(18.0);
            let font = FontId::monospace(size);
            let show_numbers = self.numbers && size >= 9.0;
            for r in 0..self.rows {
                for c in 0..self.cols {
                    let v = self.values[r * self.cols + c];
                    let min = rect.min + Vec2::new(c as f32, r as f32) * self.cell;
                    let cell_rect = Rect::from_min_size(min, Vec2::splat(self.cell));
                    let fill = self.scale.color_in(v, colours);
                    painter.rect_filled(cell_rect, 0.0, fill);
                    if show_numbers {
                        painter.text(
                            cell_rect.center(),
                            egui::Align2::CENTER_CENTER,
                            fmt_value(v),
                            font.clone(),
                            text_on(fill),
                        );
                    }
                }
            }
            if self.cell >= 12.0 {
                let grid = Stroke::new(0.5, Color32::from_gray(120));
                painter.rect_stroke(rect, 0.0, grid, egui::StrokeKind::Inside);
            }
            if let Some((r, c)) = self.selected {
                if r < self.rows && c < self.cols {
                    let min = rect.min + Vec2::new(c as f32, r as f32) * self.cell;
                    let sel = Rect::from_min_size(min, Vec2::splat(self.cell));
                    painter.rect_stroke(
                        sel,
                        0.0,
                        Stroke::new(3.0, Color32::from_rgb(255, 200, 0)),
                        egui::StrokeKind::Inside,
                    );
                }
            }
        }
        let response = match response.hover_pos().and_then(cell_at) {
            Some((r, c)) => {
                let v = self.values[r * self.cols + c];
                response.on_hover_text(format!("{} [{r}, {c}] = {v}", self.label))
            }
            None => response,
        };
        HeatmapResponse { response, clicked }
    }
}

/// A colour bar with its two ends labelled: the scale of the maps beside it.
pub fn legend_ui(ui: &mut Ui, scale: ColorScale) {
    let colours = palette(ui.ctx());
    let (lo, hi) = scale.range();
    ui.horizontal(|ui| {
        ui.label(fmt_value(lo));
        let (rect, _) = ui.allocate_exact_size(Vec2::new(120.0, 14.0), Sense::hover());
        let painter = ui.painter_at(rect);
        let steps = 40;
        for k in 0..steps {
            let t = k as f32 / (steps - 1) as f32;
            let v = lo + (hi - lo) * t;
            let x0 = rect.left() + rect.width() * k as f32 / steps as f32;
            let r = Rect::from_min_max(
                Pos2::new(x0, rect.top()),
                Pos2::new(x0 + rect.width() / steps as f32 + 0.5, rect.bottom()),
            );
            painter.rect_filled(r, 0.0, scale.color_in(v, colours));
        }
        ui.label(fmt_value(hi));
    });
}
