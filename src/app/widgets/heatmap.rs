//! The heatmap widget: a grid of numbers as coloured cells, with the numbers
//! printed when cells are large enough and always on hover; clicking a cell
//! reports it. Deltas and gradients use a diverging map centred on zero
//! (blue negative, white zero, red positive); images and activations a grey
//! ramp. Follows egui's toggle_switch.rs: size, allocate, interact, paint.

pub use crate::teach::notation::own_magnitude;
use egui::{Color32, FontId, Pos2, Rect, Response, RichText, Sense, Stroke, Ui, Vec2};

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

pub use crate::app::state::Palette;

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
pub fn text_on(fill: Color32) -> Color32 {
    let l = 0.299 * fill.r() as f32 + 0.587 * fill.g() as f32 + 0.114 * fill.b() as f32;
    if l > 140.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// A number in a line of text: three significant digits, its own magnitude.
pub fn fmt_value(v: f32) -> String {
    own_magnitude(v, 3)
}

/// How a map's numbers are printed. Every number on screen must be true
/// as written, so a student who checks an equation's arithmetic finds it
/// right: each number with its own magnitude (`−0.052`, `5.4e−3`) where the
/// cells hold it, otherwise mantissas of one power of ten that the map's
/// title states beside them (`×10⁻³`), never only on a legend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberFormat {
    /// Each number with its own magnitude, `digits` significant.
    Own { digits: usize },
    /// Every number a mantissa of `10^exponent` with `decimals` decimals.
    Shared { exponent: i32, decimals: usize },
}

/// Numbers are printed at this many pixels at least (not points: a
/// projector's zoom makes its points larger, so its smallest readable font
/// is fewer points). Cells too small for it show colours only (the number
/// is on hover and in the explanation).
pub const MIN_NUMBER_PX: f32 = 10.0;
/// A font that reads well, in pixels: numbers of their own magnitude are
/// printed at it before mantissas are preferred.
const COMFORTABLE: f32 = 13.0;

/// The smallest font in points on this screen.
pub fn min_font(ctx: &egui::Context) -> f32 {
    MIN_NUMBER_PX / ctx.pixels_per_point().max(0.5)
}

/// `size` rounded down to whole pixels on this screen. A number's font
/// follows its cell, and every distinct size fills egui's glyph atlas with
/// glyphs of its own: fractional sizes from fractional cells filled it
/// within seconds of training, and each time it is full egui clears it and
/// rasterises and uploads every glyph again (frames of 15–25 ms in the
/// browser). Whole pixels keep the sizes few.
pub fn pixel_font(ctx: &egui::Context, size: f32) -> f32 {
    let ppp = ctx.pixels_per_point().max(0.5);
    (size * ppp).floor().max(1.0) / ppp
}

/// The font (in points) that fits `chars` monospace characters into a cell
/// of `cell` points (monospace glyphs are 0.6 em wide, and a little room
/// keeps them off the cell's edges).
fn font_for(cell: f32, chars: usize) -> f32 {
    ((cell - 3.0) / (chars.max(1) as f32 * 0.64))
        .min(cell * 0.6)
        .min(18.0)
}

impl NumberFormat {
    /// Shared with the power of ten of the largest magnitude in `values`.
    pub fn for_values(values: &[f32]) -> NumberFormat {
        let max_abs = values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        NumberFormat::for_max(max_abs)
    }

    /// Mantissas of the power of ten of `max_abs` (`5.3` of `×10⁻³`): the
    /// format maps of one scale share when their cells are too small for
    /// numbers of their own.
    pub fn for_max(max_abs: f32) -> NumberFormat {
        let exponent = if max_abs.is_finite() && max_abs > 0.0 {
            max_abs.log10().floor() as i32
        } else {
            0
        };
        NumberFormat::Shared {
            exponent,
            decimals: 1,
        }
    }

    /// How `values` print in cells of `cell` points with fonts of at least
    /// `min_font` points, and the font: their own magnitudes with three
    /// significant digits, fixed decimals (`0.97`, `−0.05`), their own
    /// magnitudes with two; else mantissas of this format's power of ten
    /// (`5.3`), then of one less (`53`), then one digit (`5`); `None` when
    /// not even that fits.
    pub fn fit(&self, values: &[f32], cell: f32, min_font: f32) -> Option<(NumberFormat, f32)> {
        let exponent = match *self {
            NumberFormat::Shared { exponent, .. } => exponent,
            NumberFormat::Own { .. } => match NumberFormat::for_values(values) {
                NumberFormat::Shared { exponent, .. } => exponent,
                NumberFormat::Own { .. } => 0,
            },
        };
        // Fixed decimals, as a table prints them: two significant digits
        // of the largest value, every cell a true value (`0.97`, `−0.05`).
        let decimals = (1 - exponent).max(0) as usize;
        let candidates = [
            NumberFormat::Own { digits: 3 },
            NumberFormat::Shared {
                exponent: 0,
                decimals,
            },
            NumberFormat::Own { digits: 2 },
            NumberFormat::Shared {
                exponent,
                decimals: 1,
            },
            NumberFormat::Shared {
                exponent: exponent - 1,
                decimals: 0,
            },
            NumberFormat::Shared {
                exponent,
                decimals: 0,
            },
        ];
        // Cells too small for one character at the smallest font show
        // colours only: nothing is formatted (a 196x196 matrix is 38,416
        // cells a frame).
        if font_for(cell, 1) < min_font {
            return None;
        }
        // The most characters a readable number may have here: a candidate
        // stops being measured at its first longer number.
        let most = (1..=12)
            .take_while(|&n| font_for(cell, n) >= min_font)
            .last()
            .unwrap_or(1);
        let sized: Vec<(NumberFormat, f32)> = candidates
            .into_iter()
            .filter_map(|format| {
                let mut widest = 1;
                for &v in values {
                    widest = widest.max(format.cell(v).chars().count());
                    if widest > most {
                        return None;
                    }
                }
                Some((format, font_for(cell, widest)))
            })
            .collect();
        // The first that reads comfortably; else the first that reads at all
        // (a number of its own magnitude in a tiny font is worse than a
        // mantissa the back row can read).
        let comfortable = min_font * COMFORTABLE / MIN_NUMBER_PX;
        sized
            .iter()
            .find(|(_, font)| *font >= comfortable)
            .or_else(|| sized.iter().find(|(_, font)| *font >= min_font))
            .copied()
    }

    /// `values` with `decimals` fixed decimals (their true values, no power
    /// of ten) in cells of `cell` points, and the font, if it is at least
    /// `min_font`: maps an equation compares digit by digit (F and F new)
    /// print alike, with the digits that show what changed.
    pub fn fixed(
        values: &[f32],
        decimals: usize,
        cell: f32,
        min_font: f32,
    ) -> Option<(NumberFormat, f32)> {
        let format = NumberFormat::Shared {
            exponent: 0,
            decimals,
        };
        let widest = values
            .iter()
            .map(|&v| format.cell(v).chars().count())
            .max()
            .unwrap_or(1);
        let font = font_for(cell, widest);
        (font >= min_font).then_some((format, font))
    }

    /// `v` as this format prints it in a cell (without the power of ten).
    pub fn cell(&self, v: f32) -> String {
        if !v.is_finite() {
            return format!("{v}");
        }
        match *self {
            NumberFormat::Own { digits } => own_magnitude(v, digits),
            NumberFormat::Shared { exponent, decimals } => {
                let scaled = f64::from(v) / 10f64.powi(exponent);
                let text = format!("{scaled:.decimals$}");
                // "-0.00" says nothing a "0" does not.
                if text
                    .trim_start_matches('-')
                    .chars()
                    .all(|c| c == '0' || c == '.')
                {
                    "0".into()
                } else {
                    text.replace('-', "−")
                }
            }
        }
    }

    /// The power of ten the cells are in, e.g. `×10⁻³`; empty for numbers
    /// of their own magnitude and for 10⁰.
    pub fn suffix(&self) -> String {
        match *self {
            NumberFormat::Shared { exponent, .. } if exponent != 0 => power_of_ten(exponent),
            _ => String::new(),
        }
    }

    /// `v` in full: the cell's digits and the power of ten.
    pub fn full(&self, v: f32) -> String {
        format!("{}{}", self.cell(v), self.suffix())
    }
}

/// `×10⁻³`.
fn power_of_ten(exponent: i32) -> String {
    const SUPER: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits: String = exponent
        .unsigned_abs()
        .to_string()
        .chars()
        .map(|d| SUPER[d.to_digit(10).unwrap_or(0) as usize])
        .collect();
    let sign = if exponent < 0 { "⁻" } else { "" };
    format!("×10{sign}{digits}")
}

/// What happened to a heatmap this frame.
pub struct HeatmapResponse {
    pub response: Response,
    /// The cell clicked, `(row, column)`, in the map's own coordinates
    /// (padding cells are not clickable).
    pub clicked: Option<(usize, usize)>,
    /// The cell under the pointer, if any.
    pub hovered: Option<(usize, usize)>,
}

/// A rectangle of cells to outline, in the drawn grid's coordinates
/// (padding included): `(row, column, height, width)`.
pub type CellRect = (usize, usize, usize, usize);

pub struct Heatmap<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    scale: ColorScale,
    format: Option<NumberFormat>,
    cell: f32,
    label: String,
    selected: Option<(usize, usize)>,
    numbers: bool,
    /// Rings of zero padding before (top, left) and after (bottom, right)
    /// the map: a full convolution at stride S pads its far sides more.
    pad: usize,
    pad_end: usize,
    /// The map's cells this many apart, the `spread − 1` between them
    /// inserted zeros (a delta dilated by a stride, a filter's holes).
    spread: usize,
    outlines: Vec<(CellRect, Color32)>,
    blocked: Option<&'a [bool]>,
    dots: Vec<(usize, usize)>,
    /// A class's clicks: a disc in each cell clicked, its area the share
    /// of the most-clicked cell's count, the count printed in it.
    votes: Vec<(usize, usize, usize)>,
    dimmed: Option<CellRect>,
    /// Lines every this many cells (a pooling layer's windows).
    windows: usize,
    /// Cells not computed yet (an animation under way): drawn blank.
    pending: Option<&'a [bool]>,
    /// How the numbers print, once worked out (see `printed`).
    fitted: Option<Option<(NumberFormat, f32)>>,
    /// More for a cell's tooltip, under its value.
    hover: Option<HoverUi<'a>>,
}

/// What a map's tooltip adds about cell `(row, column)` under its value
/// (e.g. the products that sum to it).
pub type HoverUi<'a> = std::rc::Rc<dyn Fn(&mut Ui, (usize, usize)) + 'a>;

/// The colour of the selection and of outlines linked to it.
pub const SELECTION: Color32 = Color32::from_rgb(255, 200, 0);
/// The class's clicks on a map (an amber that reads on every palette).
/// Translucent: the number under a disc still reads (the class compares
/// them while it discusses).
pub const VOTES: Color32 = Color32::from_rgba_premultiplied(165, 119, 21, 170);
/// The colour of a second, linked outline (the operand a selection reads).
pub const LINKED: Color32 = Color32::from_rgb(0, 200, 120);

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
            format: None,
            cell: 16.0,
            label: label.into(),
            selected: None,
            numbers: true,
            pad: 0,
            pad_end: 0,
            spread: 1,
            outlines: Vec::new(),
            blocked: None,
            dots: Vec::new(),
            votes: Vec::new(),
            dimmed: None,
            windows: 0,
            pending: None,
            fitted: None,
            hover: None,
        }
    }

    /// Adds `hover` to a cell's tooltip, under its value.
    pub fn hover(mut self, hover: Option<HoverUi<'a>>) -> Self {
        self.hover = hover;
        self
    }

    /// Leaves the cells where `pending` is true blank (not computed yet).
    pub fn pending(mut self, pending: Option<&'a [bool]>) -> Self {
        self.pending = pending;
        self
    }

    /// Draws the grid of `size`×`size` windows over the map.
    pub fn windows(mut self, size: usize) -> Self {
        self.windows = size;
        self
    }

    pub fn scale(mut self, scale: ColorScale) -> Self {
        self.scale = scale;
        self
    }

    /// Numbers printed so (a format chosen with other maps), not fitted to
    /// this map's values alone.
    pub fn printed_as(mut self, printed: Option<(NumberFormat, f32)>) -> Self {
        if printed.is_some() {
            self.fitted = Some(printed);
        }
        self
    }

    /// How numbers are printed (by default fitted to the values).
    pub fn format(mut self, format: NumberFormat) -> Self {
        self.format = Some(format);
        self.fitted = None;
        self
    }

    /// Side of one cell in points.
    pub fn cell_size(mut self, cell: f32) -> Self {
        self.cell = cell;
        self.fitted = None;
        self
    }

    /// Fits the map into `max` points (width and height), cells at most `largest`.
    pub fn fit(mut self, max: Vec2, largest: f32) -> Self {
        let (grid_rows, grid_cols) = self.grid();
        let by_w = max.x / grid_cols.max(1) as f32;
        let by_h = max.y / grid_rows.max(1) as f32;
        self.cell = by_w.min(by_h).min(largest).max(1.0);
        self.fitted = None;
        self
    }

    pub fn selected(mut self, cell: Option<(usize, usize)>) -> Self {
        self.selected = cell;
        self
    }

    pub fn numbers(mut self, numbers: bool) -> Self {
        self.numbers = numbers;
        self.fitted = None;
        self
    }

    /// Draws a ring of `pad` zero cells around the map (the zero padding a
    /// convolution adds), hatched so that they read as "not data".
    pub fn pad(mut self, pad: usize) -> Self {
        self.pad = pad;
        self.pad_end = pad;
        self
    }

    /// Rings of padding after the map (bottom and right) other than before
    /// it (set after [`Heatmap::pad`]).
    pub fn pad_end(mut self, pad_end: usize) -> Self {
        self.pad_end = pad_end;
        self
    }

    /// Draws the map's cells `spread` apart with zeros between them (a
    /// delta dilated by its layer's stride, a filter with its holes), in a
    /// look apart from the padding's: they are inserted, not bordering.
    pub fn spread(mut self, spread: usize) -> Self {
        self.spread = spread.max(1);
        self
    }

    /// The drawn grid in cells, padding and inserted zeros included:
    /// `(rows, columns)`.
    pub fn grid(&self) -> (usize, usize) {
        grid_of(
            (self.rows, self.cols),
            (self.pad, self.pad_end),
            self.spread,
        )
    }

    /// The grid cell where the map's cell `(r, c)` is drawn.
    fn to_grid(&self, (r, c): (usize, usize)) -> (usize, usize) {
        (self.pad + r * self.spread, self.pad + c * self.spread)
    }

    /// Outlines a rectangle of cells (grid coordinates, padding included).
    pub fn outline(mut self, rect: Option<CellRect>, colour: Color32) -> Self {
        self.outlines.extend(rect.map(|r| (r, colour)));
        self
    }

    /// Outlines several rectangles at once.
    pub fn outlines(mut self, rects: Vec<(CellRect, Color32)>) -> Self {
        self.outlines.extend(rects);
        self
    }

    /// Hatches the cells where `blocked` is true (a ReLU's zeroed cells).
    pub fn blocked(mut self, blocked: Option<&'a [bool]>) -> Self {
        self.blocked = blocked;
        self
    }

    /// Marks cells with a dot (a pooling window's winners).
    pub fn votes(mut self, votes: Vec<(usize, usize, usize)>) -> Self {
        self.votes = votes;
        self
    }

    pub fn dots(mut self, dots: Vec<(usize, usize)>) -> Self {
        self.dots = dots;
        self
    }

    /// Greys out everything outside this rectangle (grid coordinates): the
    /// part an animation has not reached yet.
    pub fn dim_outside(mut self, rect: Option<CellRect>) -> Self {
        self.dimmed = rect;
        self
    }

    /// The size the map will take.
    pub fn size(&self) -> Vec2 {
        let (rows, cols) = self.grid();
        Vec2::new(cols as f32, rows as f32) * self.cell
    }

    /// How the numbers print at this cell size on this screen, and the font;
    /// `None` when the cells show colours only.
    /// Worked out once per map and frame (a title that states the power of
    /// ten asks before the map is drawn).
    pub fn printed(&mut self, ctx: &egui::Context) -> Option<(NumberFormat, f32)> {
        if let Some(fitted) = self.fitted {
            return fitted;
        }
        let fitted = self.numbers.then(|| {
            let format = self
                .format
                .unwrap_or_else(|| NumberFormat::for_values(self.values));
            format.fit(self.values, self.cell, min_font(ctx))
        });
        let fitted = fitted.flatten();
        self.fitted = Some(fitted);
        fitted
    }

    /// What a screen reader (and a test) is told about the map, in no
    /// language: its size, its cells' side in points and the numbers
    /// printed in them after their power of ten, if they share one, e.g.
    /// `3x3; 45.7 pt; ×10⁻²: −5.2 1.0 …`, `3x3; 45.7 pt; : −0.052 …`, or
    /// `14x14; 9.0 pt; –` when the cells are colours only.
    ///
    /// A map drawn spread out (a dilated delta) is described as drawn: its
    /// inserted zeros are cells, and read as 0.
    fn describe(&self, printed: Option<NumberFormat>) -> String {
        let (rows, cols) = grid_of((self.rows, self.cols), (0, 0), self.spread);
        let head = format!("{rows}x{cols}; {:.1} pt", self.cell);
        match printed {
            None => format!("{head}; –"),
            Some(format) => {
                let s = self.spread;
                let cells: Vec<String> = (0..rows * cols)
                    .map(|k| {
                        let (r, c) = (k / cols, k % cols);
                        if r.is_multiple_of(s) && c.is_multiple_of(s) {
                            format.cell(self.values[(r / s) * self.cols + c / s])
                        } else {
                            format.cell(0.0)
                        }
                    })
                    .collect();
                format!("{head}; {}: {}", format.suffix(), cells.join(" "))
            }
        }
    }

    pub fn show(mut self, ui: &mut Ui) -> HeatmapResponse {
        let (rect, response) = ui.allocate_exact_size(self.size(), Sense::click());
        let label = self.label.clone();
        let pad = self.pad as f32;
        let spread = self.spread;
        let (data_rows, data_cols) = grid_of((self.rows, self.cols), (0, 0), spread);
        let data_rect = Rect::from_min_size(
            rect.min + Vec2::splat(pad * self.cell),
            Vec2::new(data_cols as f32, data_rows as f32) * self.cell,
        );
        // Only the map's own cells answer a click: padding and inserted
        // zeros are not data.
        let cell_at = |pos: Pos2| -> Option<(usize, usize)> {
            if !data_rect.contains(pos) {
                return None;
            }
            let c = ((pos.x - data_rect.left()) / self.cell) as usize;
            let r = ((pos.y - data_rect.top()) / self.cell) as usize;
            let on_cell = r.is_multiple_of(spread) && c.is_multiple_of(spread);
            let (r, c) = (r / spread, c / spread);
            (on_cell && r < self.rows && c < self.cols).then_some((r, c))
        };
        let clicked = if response.clicked() {
            response.interact_pointer_pos().and_then(cell_at)
        } else {
            None
        };
        let hovered = response.hover_pos().and_then(cell_at);
        let printed = self.printed(ui.ctx());
        response.widget_info(|| {
            let mut info = egui::WidgetInfo::labeled(egui::Role::Image, true, &label);
            info.current_text_value = Some(self.describe(printed.map(|(f, _)| f)));
            info
        });

        if ui.is_rect_visible(rect) {
            let colours = palette(ui.ctx());
            let painter = ui.painter_at(rect.expand(2.0));
            let grid_cell = |r: usize, c: usize| {
                Rect::from_min_size(
                    rect.min + Vec2::new(c as f32, r as f32) * self.cell,
                    Vec2::splat(self.cell),
                )
            };
            let font = printed.map(|(_, size)| FontId::monospace(pixel_font(ui.ctx(), size)));
            let (grid_rows, grid_cols) = self.grid();
            let hatch = Stroke::new(1.0, Color32::from_gray(150));
            for gr in 0..grid_rows {
                for gc in 0..grid_cols {
                    let cell_rect = grid_cell(gr, gc);
                    let inside = gr >= self.pad
                        && gc >= self.pad
                        && gr < self.pad + data_rows
                        && gc < self.pad + data_cols;
                    if !inside {
                        // Zero padding: the zero colour, hatched.
                        painter.rect_filled(cell_rect, 0.0, Color32::from_gray(225));
                        hatch_cell(&painter, cell_rect, hatch);
                        continue;
                    }
                    let (dr, dc) = (gr - self.pad, gc - self.pad);
                    if !dr.is_multiple_of(spread) || !dc.is_multiple_of(spread) {
                        // An inserted zero: the zero colour with a dot, and
                        // its 0 printed where numbers are (not hatched: it
                        // is inside the map, not around it).
                        painter.rect_filled(cell_rect, 0.0, Color32::from_gray(238));
                        painter.rect_stroke(
                            cell_rect.shrink(1.5),
                            2.0,
                            Stroke::new(1.0, Color32::from_gray(175)),
                            egui::StrokeKind::Inside,
                        );
                        if let Some(font) = &font {
                            painter.text(
                                cell_rect.center(),
                                egui::Align2::CENTER_CENTER,
                                "0",
                                font.clone(),
                                Color32::from_gray(150),
                            );
                        }
                        continue;
                    }
                    let (r, c) = (dr / spread, dc / spread);
                    if self
                        .pending
                        .is_some_and(|p| p.get(r * self.cols + c) == Some(&true))
                    {
                        painter.rect_filled(cell_rect, 0.0, Color32::from_gray(60));
                        continue;
                    }
                    let v = self.values[r * self.cols + c];
                    let fill = self.scale.color_in(v, colours);
                    // Cells a pixel or two wide overlap a little: their
                    // anti-aliased edges would otherwise show the background
                    // as a mesh (a 196x196 matrix on a projector).
                    let drawn = if self.cell < 6.0 {
                        cell_rect.expand(0.5)
                    } else {
                        cell_rect
                    };
                    painter.rect_filled(drawn, 0.0, fill);
                    if self
                        .blocked
                        .is_some_and(|b| b.get(r * self.cols + c) == Some(&true))
                    {
                        hatch_cell(
                            &painter,
                            cell_rect,
                            Stroke::new(1.5, Color32::from_gray(70)),
                        );
                    }
                    if let (Some((format, _)), Some(font)) = (printed, &font) {
                        painter.text(
                            cell_rect.center(),
                            egui::Align2::CENTER_CENTER,
                            format.cell(v),
                            font.clone(),
                            text_on(fill),
                        );
                    }
                }
            }
            if let Some((r0, c0, h, w)) = self.dimmed {
                let keep = Rect::from_min_max(
                    grid_cell(r0, c0).min,
                    grid_cell(r0 + h - 1, c0 + w - 1).max,
                );
                let shade = Color32::from_black_alpha(140);
                for part in [
                    Rect::from_min_max(rect.min, Pos2::new(rect.max.x, keep.min.y)),
                    Rect::from_min_max(Pos2::new(rect.min.x, keep.max.y), rect.max),
                    Rect::from_min_max(
                        Pos2::new(rect.min.x, keep.min.y),
                        Pos2::new(keep.min.x, keep.max.y),
                    ),
                    Rect::from_min_max(
                        Pos2::new(keep.max.x, keep.min.y),
                        Pos2::new(rect.max.x, keep.max.y),
                    ),
                ] {
                    if part.is_positive() {
                        painter.rect_filled(part, 0.0, shade);
                    }
                }
            }
            if self.cell >= 12.0 {
                let grid = Stroke::new(0.5, Color32::from_gray(120));
                painter.rect_stroke(rect, 0.0, grid, egui::StrokeKind::Inside);
                if self.pad > 0 || self.pad_end > 0 {
                    painter.rect_stroke(data_rect, 0.0, grid, egui::StrokeKind::Inside);
                }
            }
            if self.windows > 1 {
                let line = Stroke::new(1.0, Color32::from_gray(110));
                let (h, w) = (self.rows / self.windows, self.cols / self.windows);
                for k in 1..h {
                    let y = data_rect.top() + (k * self.windows) as f32 * self.cell;
                    painter.line_segment(
                        [
                            Pos2::new(data_rect.left(), y),
                            Pos2::new(data_rect.right(), y),
                        ],
                        line,
                    );
                }
                for k in 1..w {
                    let x = data_rect.left() + (k * self.windows) as f32 * self.cell;
                    painter.line_segment(
                        [
                            Pos2::new(x, data_rect.top()),
                            Pos2::new(x, data_rect.bottom()),
                        ],
                        line,
                    );
                }
            }
            // A marked cell (a pooling window's winner) keeps its number
            // readable: where the cell prints one, the dot sits in its
            // top-left corner, smaller; else in the middle.
            let numbered = printed.is_some() && font.is_some();
            for &(r, c) in &self.dots {
                if r < self.rows && c < self.cols {
                    let (gr, gc) = self.to_grid((r, c));
                    let cell = grid_cell(gr, gc);
                    let (centre, radius) = if numbered {
                        let radius = (self.cell * 0.11).max(2.0);
                        (cell.min + Vec2::splat(radius + 1.5), radius)
                    } else {
                        (cell.center(), (self.cell * 0.18).max(2.0))
                    };
                    painter.circle_filled(centre, radius, Color32::from_rgb(20, 20, 20));
                    painter.circle_stroke(centre, radius, Stroke::new(1.0, Color32::WHITE));
                }
            }
            let most = self.votes.iter().map(|v| v.2).max().unwrap_or(0).max(1);
            for &(r, c, n) in &self.votes {
                if r < self.rows && c < self.cols && n > 0 {
                    let (gr, gc) = self.to_grid((r, c));
                    let cell = grid_cell(gr, gc);
                    let radius = self.cell * 0.48 * (n as f32 / most as f32).sqrt();
                    let radius = radius.max(3.0);
                    painter.circle_filled(cell.center(), radius, VOTES);
                    painter.circle_stroke(cell.center(), radius, Stroke::new(1.5, Color32::BLACK));
                    if self.cell >= 14.0 && radius >= 7.0 {
                        painter.text(
                            cell.center(),
                            egui::Align2::CENTER_CENTER,
                            n.to_string(),
                            egui::FontId::proportional((self.cell * 0.42).min(20.0)),
                            Color32::BLACK,
                        );
                    }
                }
            }
            for &((r0, c0, h, w), colour) in &self.outlines {
                if h == 0 || w == 0 || r0 + h > grid_rows || c0 + w > grid_cols {
                    continue;
                }
                let outline = Rect::from_min_max(
                    grid_cell(r0, c0).min,
                    grid_cell(r0 + h - 1, c0 + w - 1).max,
                );
                painter.rect_stroke(
                    outline,
                    0.0,
                    Stroke::new(3.0, colour),
                    egui::StrokeKind::Outside,
                );
            }
            if let Some((r, c)) = self.selected {
                if r < self.rows && c < self.cols {
                    let (gr, gc) = self.to_grid((r, c));
                    let sel = grid_cell(gr, gc);
                    painter.rect_stroke(
                        sel,
                        0.0,
                        Stroke::new(3.0, SELECTION),
                        egui::StrokeKind::Inside,
                    );
                }
            }
        }
        let response = match hovered {
            Some((r, c)) => {
                // + 0: a negative zero (a delta times a ReLU's 0) reads 0.
                let v = self.values[r * self.cols + c] + 0.0;
                let line = format!("{} [{r}, {c}] = {v}", self.label);
                match &self.hover {
                    Some(more) => response.on_hover_ui(|ui| {
                        ui.label(line);
                        more(ui, (r, c));
                    }),
                    None => response.on_hover_text(line),
                }
            }
            None => response,
        };
        HeatmapResponse {
            response,
            clicked,
            hovered,
        }
    }
}

/// The grid a map of `(rows, cols)` cells is drawn on, its cells `spread`
/// apart, with `(before, after)` rings of padding: `(rows, columns)`.
pub fn grid_of(
    (rows, cols): (usize, usize),
    (before, after): (usize, usize),
    spread: usize,
) -> (usize, usize) {
    let spread_out = |n: usize| if n == 0 { 0 } else { (n - 1) * spread + 1 };
    (
        before + spread_out(rows) + after,
        before + spread_out(cols) + after,
    )
}

/// Diagonal lines across a cell: "blocked" or "not data".
fn hatch_cell(painter: &egui::Painter, cell: Rect, stroke: Stroke) {
    let painter = painter.with_clip_rect(cell.intersect(painter.clip_rect()));
    let side = cell.width();
    for k in 1..4 {
        let t = side * k as f32 / 2.0;
        painter.line_segment(
            [
                cell.left_bottom() + Vec2::new(t - side, 0.0),
                cell.left_bottom() + Vec2::new(t, -side),
            ],
            stroke,
        );
    }
}

/// A colour bar with its two ends labelled with their true values: the
/// scale of the maps beside it.
pub fn legend_ui(ui: &mut Ui, scale: ColorScale) {
    legend_fit(ui, scale, 200.0);
}

/// The colour bar within `width` points: the bar shrinks first, then the
/// ends go under it.
pub fn legend_fit(ui: &mut Ui, scale: ColorScale, width: f32) {
    let colours = palette(ui.ctx());
    let (lo, hi) = scale.range();
    // The ends as true values of their own (a map whose cells print
    // mantissas states their power of ten in its title, not here).
    let (lo_text, hi_text) = (own_magnitude(lo, 2), own_magnitude(hi, 2));
    let text_width = (lo_text.chars().count() + hi_text.chars().count()) as f32 * 7.5 + 12.0;
    let bar = (width - text_width).clamp(0.0, 90.0);
    if bar < 16.0 {
        // Too narrow for a bar: the range in one short token.
        let text = match scale {
            ColorScale::Diverging { .. } => format!("±{hi_text}"),
            ColorScale::Sequential { .. } => format!("{lo_text}–{hi_text}"),
        };
        ui.add(egui::Label::new(RichText::new(text).small()).truncate());
        return;
    }
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        ui.label(RichText::new(lo_text).small());
        let (rect, _) = ui.allocate_exact_size(Vec2::new(bar, 12.0), Sense::hover());
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
        ui.label(RichText::new(hi_text).small());
    });
}
