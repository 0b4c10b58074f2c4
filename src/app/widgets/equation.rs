//! An equation of maps, laid out left to right: `x ⋆ D = dF`. Each operand
//! is a heatmap with a short title and its colour bar; operators sit between
//! them at the maps' middle height. One cell size serves every map of the
//! equations shown together, chosen so that all of them fit the room given
//! (a 1280x720 projector included): maps of the same kind are then drawn at
//! the same scale, and the patches an outline links line up by eye.

use egui::{Color32, RichText, Ui, Vec2};

use super::heatmap::{legend_fit, CellRect, ColorScale, Heatmap, NumberFormat};

/// One map of an equation.
pub struct Operand<'a> {
    /// What a click on it is reported as (`"x"`, `"D"`, `"dF"`, …).
    pub id: &'static str,
    pub title: String,
    /// A few characters for a small window (the title shows on hover).
    pub short: Option<String>,
    /// Labels above the columns of a one-row map (the digits 0–9).
    pub labels: Option<Vec<String>>,
    /// The map's values, row-major: borrowed from the trace's slice, or
    /// made for this frame (an animation's running sums).
    pub values: std::borrow::Cow<'a, [f32]>,
    pub rows: usize,
    pub cols: usize,
    pub scale: ColorScale,
    pub format: NumberFormat,
    /// Rings of zero padding drawn around the map (more after it, bottom
    /// and right, when `pad_end` says so).
    pub pad: usize,
    pub pad_end: Option<usize>,
    /// Its cells this many apart, zeros inserted between (see
    /// [`Heatmap::spread`]).
    pub spread: usize,
    pub outlines: Vec<(CellRect, Color32)>,
    pub selected: Option<(usize, usize)>,
    pub dim_outside: Option<CellRect>,
    pub blocked: Option<&'a [bool]>,
    pub dots: Vec<(usize, usize)>,
    /// A class's clicks, `(row, column, count)`.
    pub votes: Vec<(usize, usize, usize)>,
    /// Window grid every this many cells (0: none).
    pub windows: usize,
    /// Cells not computed yet (an animation), drawn blank.
    pub pending: Option<Vec<bool>>,
    /// A small map (a filter, a bias): drawn with the larger cells that
    /// hold its numbers, whatever the size of the maps beside it.
    pub small: bool,
    /// Cells this many times the big maps' (a pooled map beside the map it
    /// pools: one of its cells as large as a window there).
    pub zoom: usize,
    /// Its colour bar drawn (not when a map below shows the same values).
    pub legend: bool,
    /// More for a cell's tooltip (the products behind it).
    pub hover: Option<super::heatmap::HoverUi<'a>>,
    /// How its numbers print, when chosen with other maps (else fitted).
    pub printed: Option<(NumberFormat, f32)>,
}

impl<'a> Operand<'a> {
    /// A map with its own diverging or grey scale, fitted to its values
    /// (borrowed from the trace's slice, or made for this frame).
    pub fn new(
        id: &'static str,
        title: impl Into<String>,
        values: impl Into<std::borrow::Cow<'a, [f32]>>,
        rows: usize,
        cols: usize,
        diverging: bool,
    ) -> Operand<'a> {
        Self::of(id, title, values.into(), rows, cols, diverging)
    }

    fn of(
        id: &'static str,
        title: impl Into<String>,
        values: std::borrow::Cow<'a, [f32]>,
        rows: usize,
        cols: usize,
        diverging: bool,
    ) -> Operand<'a> {
        let scale = if diverging {
            ColorScale::diverging(&values)
        } else {
            ColorScale::auto(&values)
        };
        let (lo, hi) = scale.range();
        Operand {
            id,
            title: title.into(),
            short: None,
            labels: None,
            values,
            rows,
            cols,
            scale,
            format: NumberFormat::for_max(lo.abs().max(hi.abs())),
            pad: 0,
            pad_end: None,
            spread: 1,
            outlines: Vec::new(),
            selected: None,
            dim_outside: None,
            blocked: None,
            dots: Vec::new(),
            votes: Vec::new(),
            windows: 0,
            pending: None,
            // Filters (and a bias): vectors line up with the maps beside
            // them instead.
            small: (rows > 1 && cols > 1 && rows * cols <= 25) || rows * cols == 1,
            zoom: 1,
            legend: true,
            hover: None,
            printed: None,
        }
    }

    pub fn pad(mut self, pad: usize) -> Self {
        self.pad = pad;
        self
    }

    /// Rings of padding after the map (bottom, right) other than `pad`.
    pub fn pad_end(mut self, pad_end: usize) -> Self {
        self.pad_end = Some(pad_end);
        self
    }

    /// Its cells `spread` apart, with inserted zeros between them.
    pub fn spread(mut self, spread: usize) -> Self {
        self.spread = spread.max(1);
        self
    }

    /// Drawn at the big maps' scale however few its cells (a vector that
    /// lines up with a matrix beside it).
    pub fn big(mut self) -> Self {
        self.small = false;
        self
    }

    /// `hover` adds to a cell's tooltip, under its value.
    pub fn hover(mut self, hover: super::heatmap::HoverUi<'a>) -> Self {
        self.hover = Some(hover);
        self
    }

    /// No colour bar: the map drawn below it holds the same values.
    pub fn without_legend(mut self) -> Self {
        self.legend = false;
        self
    }

    /// Cells `zoom` times the big maps' (a pooled map, by its window size).
    pub fn zoom(mut self, zoom: usize) -> Self {
        self.zoom = zoom.max(1);
        self
    }

    pub fn labels(mut self, labels: Vec<String>) -> Self {
        self.labels = Some(labels);
        self
    }

    pub fn short(mut self, short: impl Into<String>) -> Self {
        self.short = Some(short.into());
        self
    }

    pub fn outline(mut self, rect: Option<CellRect>, colour: Color32) -> Self {
        self.outlines.extend(rect.map(|r| (r, colour)));
        self
    }

    /// Outlines several rectangles at once (a reveal's right and wrong cells).
    pub fn outlines(mut self, rects: Vec<(CellRect, Color32)>) -> Self {
        self.outlines.extend(rects);
        self
    }

    pub fn selected(mut self, cell: Option<(usize, usize)>) -> Self {
        self.selected = cell;
        self
    }

    pub fn dim_outside(mut self, rect: Option<CellRect>) -> Self {
        self.dim_outside = rect;
        self
    }

    pub fn blocked(mut self, blocked: Option<&'a [bool]>) -> Self {
        self.blocked = blocked;
        self
    }

    pub fn votes(mut self, votes: Vec<(usize, usize, usize)>) -> Self {
        self.votes = votes;
        self
    }

    pub fn dots(mut self, dots: Vec<(usize, usize)>) -> Self {
        self.dots = dots;
        self
    }

    pub fn windows(mut self, size: usize) -> Self {
        self.windows = size;
        self
    }

    pub fn pending(mut self, pending: Option<Vec<bool>>) -> Self {
        self.pending = pending;
        self
    }

    /// Shares another operand's colour scale and number format (the batch's
    /// dF and one sample's share, say).
    pub fn same_scale(mut self, scale: ColorScale, format: NumberFormat) -> Self {
        self.scale = scale;
        self.format = format;
        self
    }

    /// Prints its numbers so (chosen with the maps it is compared with).
    pub fn printed(mut self, printed: Option<(NumberFormat, f32)>) -> Self {
        self.printed = printed;
        self
    }

    /// Grid size in cells, padding and inserted zeros included: (rows,
    /// columns).
    fn grid(&self) -> (usize, usize) {
        super::heatmap::grid_of(
            (self.rows, self.cols),
            (self.pad, self.pad_end.unwrap_or(self.pad)),
            self.spread,
        )
    }
}

/// An operand or an operator of an equation row.
pub enum Term<'a> {
    Map(Box<Operand<'a>>),
    /// An operator or a short word between maps: `⋆`, `=`, `⊛`, `Σ →`.
    Op(String),
}

impl<'a> Term<'a> {
    pub fn map(operand: Operand<'a>) -> Term<'a> {
        Term::Map(Box::new(operand))
    }
}

/// Room above a map for its title (two lines, or one on a small window)
/// and its colour bar.
fn head(compact: bool) -> f32 {
    if compact {
        TITLE_SMALL + 2.0 + 16.0
    } else {
        56.0
    }
}

/// A one-line title's height on a small window.
const TITLE_SMALL: f32 = 16.0;
/// Space between the columns of a row (less on a small window, where every
/// point goes to the cells).
fn gap(compact: bool) -> f32 {
    if compact {
        4.0
    } else {
        6.0
    }
}

/// Cells of small maps (filters): big enough for their numbers (64 pixels
/// on a projector at 1.4x) when there is room.
const SMALL_CELL: f32 = 46.0;

/// Width of an operator's column, from its text.
fn op_width(op: &str, compact: bool) -> f32 {
    // ~12 points a character at the operators' 20-point font (Cyrillic
    // letters are wider than Latin ones).
    let longest = op_lines(op, compact)
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    (longest as f32 * 12.0 + 8.0).max(24.0)
}

/// An operator as drawn: on a small window a worded arrow (`Σ batch →`,
/// `→ winners →`) becomes its words over the arrow, a narrower column that
/// leaves its width to the maps.
fn op_lines(op: &str, compact: bool) -> String {
    if compact && op.contains('→') && op.chars().count() > 5 {
        let words = op.replace('→', "");
        let words = words.trim();
        if !words.is_empty() {
            return format!("{words}\n→");
        }
    }
    op.to_string()
}

/// Cell sizes for the maps of equations drawn together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cells {
    /// Maps of the layer's size.
    pub map: f32,
    /// Small maps (filters, biases).
    pub small: f32,
    /// One line of title per map (a small window).
    pub compact: bool,
}

impl Cells {
    fn of(&self, m: &Operand) -> f32 {
        if m.small {
            self.small
        } else {
            self.map * m.zoom as f32
        }
    }
}

/// The largest cells (maps between `min` and `max` points) at which every
/// row fits `room`: widths side by side, rows one under another, each with
/// `HEAD` and `extra` points of text above it. Small maps keep cells that
/// hold their numbers unless the room is too tight even for that.
pub fn fit_cell(
    rows: &[&[Term]],
    room: Vec2,
    extra: f32,
    (min, max): (f32, f32),
    compact: bool,
) -> Cells {
    // Per row: cells of big maps across, fixed points across, the tallest
    // big map in cells, the tallest small map in small cells.
    let measure = |small: f32| -> Vec<(f32, f32, f32, f32)> {
        rows.iter()
            .map(|row| {
                let (mut cells, mut fixed, mut tallest, mut small_rows) =
                    (0.0, 0.0, 0.0f32, 0.0f32);
                for term in row.iter() {
                    match term {
                        Term::Map(m) => {
                            let (r, c) = m.grid();
                            let (r, c) = if m.small {
                                (r, c)
                            } else {
                                (r * m.zoom, c * m.zoom)
                            };
                            if m.small {
                                fixed += (c as f32 * small).max(MIN_COLUMN);
                                small_rows = small_rows.max(r as f32);
                            } else {
                                cells += c as f32;
                                tallest = tallest.max(r as f32);
                            }
                        }
                        Term::Op(op) => fixed += op_width(op, compact),
                    }
                    fixed += gap(compact);
                }
                (cells, fixed, tallest, small_rows)
            })
            .collect()
    };
    // Rows with digit labels above a vector have a strip more.
    let labelled: Vec<f32> = rows
        .iter()
        .map(|row| {
            let any = row
                .iter()
                .any(|t| matches!(t, Term::Map(m) if m.labels.is_some()));
            if any {
                18.0
            } else {
                0.0
            }
        })
        .collect();
    let fit = |small: f32| -> (f32, f32) {
        let rows = measure(small);
        let by_width = rows
            .iter()
            .filter(|r| r.0 > 0.0)
            .map(|r| (room.x - r.1).max(0.0) / r.0)
            .fold(f32::INFINITY, f32::min);
        let height = |cell: f32| -> f32 {
            rows.iter()
                .zip(&labelled)
                // Item spacing around the title and colour bar.
                .map(|(r, strip)| {
                    let spacing = if compact { 6.0 } else { 10.0 };
                    head(compact) + extra + strip + spacing + (r.2 * cell).max(r.3 * small)
                })
                .sum()
        };
        // The largest cell whose rows fit the height (height grows with it).
        let (mut lo, mut hi) = (0.0f32, max.max(1.0));
        if height(hi) <= room.y {
            lo = hi;
        } else {
            for _ in 0..30 {
                let mid = (lo + hi) / 2.0;
                if height(mid) <= room.y {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        }
        (by_width, lo)
    };
    // Small maps alone may already be too wide (the loss's 10-vectors):
    // their cells shrink until every row fits, leaving big maps 4 points.
    let mut small = rows
        .iter()
        .map(|row| {
            let (mut small_cols, mut fixed, mut cells) = (0.0, 0.0, 0.0);
            for term in row.iter() {
                match term {
                    Term::Map(m) if m.small => small_cols += m.grid().1 as f32,
                    Term::Map(m) => cells += (m.grid().1 * m.zoom) as f32,
                    Term::Op(op) => fixed += op_width(op, compact),
                }
                fixed += gap(compact);
            }
            if small_cols > 0.0 {
                (room.x - fixed - cells * 4.0) / small_cols
            } else {
                f32::INFINITY
            }
        })
        .fold(SMALL_CELL, f32::min)
        .max(8.0);
    let (mut by_width, mut by_height) = fit(small);
    // Give the big maps room back from the small ones (filters lose their
    // numbers first) before the big maps become hard to read. Once the rows
    // fit, only while that draws the big maps larger: when their own height,
    // not the filters, limits them, the filters keep their numbers (lenet
    // conv1's at 1600x1000).
    while by_width.min(by_height) < READABLE && small > 20.0 {
        let (w, h) = fit(small - 3.0);
        let now = by_width.min(by_height);
        if now >= min && w.min(h) <= now + 0.01 {
            break;
        }
        small -= 3.0;
        (by_width, by_height) = (w, h);
    }
    // On a small window (a projector), big maps whose cells are too small
    // for numbers grow towards cells that carry them while the filters can
    // spare the room and keep cells that carry theirs (a dilated filter's
    // holes drawn 5x5 at 46 points, as tall as D, had left D's cells at 10
    // points, colours only; at 12.5 they print their numbers).
    // The filters' floor: a 3x3's cells stay 64 pixels, larger ones' 36.
    let floor = rows
        .iter()
        .flat_map(|row| row.iter())
        .filter_map(|t| match t {
            Term::Map(m) if m.small => {
                let (r, c) = m.grid();
                Some(if r.max(c) <= 3 {
                    SMALL_CELL
                } else {
                    SMALL_NUMBERS
                })
            }
            _ => None,
        })
        .fold(0.0, f32::max);
    while compact && by_width.min(by_height) < NUMBERS && small > floor {
        let next = (small - 1.0).max(floor);
        let (w, h) = fit(next);
        if w.min(h) <= by_width.min(by_height) + 0.01 {
            break;
        }
        small = next;
        (by_width, by_height) = (w, h);
    }
    let map = by_width.min(by_height);
    let map = map.clamp(min, max);
    // Without big maps `map` is only the upper bound, not a size that fits:
    // the small maps keep the cells that do.
    let any_big = rows
        .iter()
        .any(|row| row.iter().any(|t| matches!(t, Term::Map(m) if !m.small)));
    Cells {
        map,
        small: if any_big { small.max(map) } else { small },
        compact,
    }
}

/// Cells of big maps below this many points are worth the filters'
/// numbers: a 28x28 map at 6 points is a picture one can still point into.
const READABLE: f32 = 6.0;

/// On a projector (1.4x zoom), cells of this many points carry numbers of
/// two characters (a mantissa: `−2`) at the smallest font it prints.
const NUMBERS: f32 = 12.5;
/// And cells of small maps larger than 3x3 (a dilated filter drawn with its
/// holes) this large carry their numbers: 36 pixels on a projector.
const SMALL_NUMBERS: f32 = 26.0;

/// The narrowest a column may be (its title needs some room).
const MIN_COLUMN: f32 = 40.0;
/// A table's vector column (δ down the side) is at least this wide: its
/// title and the power of ten its numbers share ("δ (×10⁻²)") need it, and
/// a table fitted to 40 ran past its view's edge by the difference.
const MIN_VECTOR_COLUMN: f32 = 60.0;

/// What a row reports: the operand and cell clicked, and where each
/// operand's map was drawn (the guided lesson outlines them: the maps
/// only, never their titles).
#[derive(Default)]
pub struct RowResponse {
    pub clicked: Option<(&'static str, (usize, usize))>,
    pub rects: Vec<(&'static str, egui::Rect)>,
}

impl RowResponse {
    /// Where the operand `id` was drawn.
    pub fn rect(&self, id: &str) -> Option<egui::Rect> {
        self.rects.iter().find(|(i, _)| *i == id).map(|(_, r)| *r)
    }

    /// The centre of cell `(r, c)` of operand `id`, an unpadded grid of
    /// `rows`×`cols`.
    pub fn cell_centre(
        &self,
        id: &str,
        (rows, cols): (usize, usize),
        (r, c): (usize, usize),
    ) -> Option<egui::Pos2> {
        let rect = self.rect(id)?;
        let cell = Vec2::new(rect.width() / cols as f32, rect.height() / rows as f32);
        Some(rect.min + Vec2::new(c as f32 + 0.5, r as f32 + 0.5) * cell)
    }
}

/// An arrow over the row from one cell to another: where a number goes
/// (a pooled delta to its winner, a vector entry to its cell). The tip has
/// a fixed size, whatever the length.
pub fn link_arrow(ui: &Ui, from: egui::Pos2, to: egui::Pos2) {
    let painter = ui.painter();
    let along = to - from;
    if along.length() < 1.0 {
        return;
    }
    let stroke = egui::Stroke::new(2.5, super::heatmap::LINKED);
    let dir = along.normalized();
    painter.circle_filled(from, 3.5, super::heatmap::LINKED);
    painter.line_segment([from, to], stroke);
    let back = -dir * 11.0;
    let side = Vec2::new(-dir.y, dir.x) * 5.5;
    painter.add(egui::Shape::convex_polygon(
        vec![to, to + back + side, to + back - side],
        super::heatmap::LINKED,
        egui::Stroke::NONE,
    ));
}

/// Draws a row with `cells`.
pub fn row_ui(ui: &mut Ui, row: Vec<Term>, cells: Cells) -> RowResponse {
    let head = head(cells.compact);
    let tallest = row
        .iter()
        .filter_map(|t| match t {
            Term::Map(m) => Some(m.grid().0 as f32 * cells.of(m)),
            Term::Op(_) => None,
        })
        .fold(0.0f32, f32::max);
    let mut out = RowResponse::default();
    // A row scrolled out of sight keeps its place and draws nothing: its
    // numbers, titles and colour bars were laid out anew at every frame of a
    // run (most of a frame in the browser) for nobody. Its size is the one
    // it had when last drawn. A screen reader's tree (and a test's) still
    // gets every row.
    let key = ui.next_auto_id().with("equation row");
    let last = ui.data(|d| d.get_temp::<Vec2>(key));
    let unseen = last.filter(|&size| {
        !ui.is_rect_visible(egui::Rect::from_min_size(ui.cursor().min, size))
            && ui.ctx().accesskit_node_builder(key, |_| ()).is_none()
    });
    if let Some(size) = unseen {
        // One child, as the drawn row has, so what follows keeps its ids.
        ui.horizontal_top(|ui| ui.allocate_space(size));
        return out;
    }
    let drawn = ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = gap(cells.compact);
        for term in row {
            match term {
                Term::Op(op) => {
                    let text = op_lines(&op, cells.compact);
                    let lines = text.lines().count() as f32;
                    ui.allocate_ui_with_layout(
                        Vec2::new(op_width(&op, cells.compact), head + tallest),
                        egui::Layout::top_down(egui::Align::Center),
                        |ui| {
                            ui.add_space((head + tallest / 2.0 - 14.0 * lines).max(0.0));
                            // Words (on a small window) a little smaller
                            // than symbols, so they keep to their column.
                            let size = if cells.compact && text.chars().count() > 3 {
                                16.0
                            } else {
                                20.0
                            };
                            ui.add(
                                egui::Label::new(RichText::new(text).size(size).strong())
                                    .halign(egui::Align::Center)
                                    .extend(),
                            );
                        },
                    );
                }
                Term::Map(m) => {
                    let cell = cells.of(&m);
                    let width = (m.grid().1 as f32 * cell).max(MIN_COLUMN);
                    column_ui(
                        ui,
                        *m,
                        cell,
                        Vec2::new(width, head + tallest),
                        cells.compact,
                        &mut out,
                    );
                }
            }
        }
    });
    ui.data_mut(|d| d.insert_temp(key, drawn.response.rect.size()));
    out
}

/// One operand of an equation: its title (the power of ten of its numbers
/// never elided), its colour bar and its map, in a column of `size`; where
/// it was drawn and what was clicked go to `out`.
fn column_ui(ui: &mut Ui, m: Operand, cell: f32, size: Vec2, compact: bool, out: &mut RowResponse) {
    let head = head(compact);
    let (_, cols) = m.grid();
    let id = m.id;
    let width = size.x;
    let column = ui.allocate_ui_with_layout(size, egui::Layout::top_down(egui::Align::Min), |ui| {
        ui.set_width(width);
        let column_top = ui.cursor().top();
        let mut heatmap = Heatmap::new(&m.values, m.rows, m.cols, m.title.clone())
            .scale(m.scale)
            .format(m.format)
            .cell_size(cell)
            .pad(m.pad)
            .pad_end(m.pad_end.unwrap_or(m.pad))
            .spread(m.spread)
            .selected(m.selected)
            .dim_outside(m.dim_outside)
            .blocked(m.blocked)
            .dots(m.dots)
            .votes(m.votes)
            .windows(m.windows)
            .pending(m.pending.as_deref())
            .outlines(m.outlines)
            .hover(m.hover)
            .printed_as(m.printed);
        // Mantissas of a shared power of ten say it in
        // the title, beside the numbers they belong to.
        let factor = heatmap
            .printed(ui.ctx())
            .map(|(format, _)| format.suffix())
            .filter(|s| !s.is_empty());
        // Two lines of title at most (one on a small
        // window, the rest on hover), then the colour bar.
        if compact {
            ui.spacing_mut().item_spacing.y = 2.0;
        }
        let title_height = if compact { TITLE_SMALL } else { head - 22.0 };
        ui.allocate_ui(Vec2::new(width, title_height), |ui| {
            ui.set_min_height(title_height);
            let text = match (&m.short, compact) {
                (Some(short), true) => short,
                _ => &m.title,
            };
            // At most the lines the head has room for,
            // the rest elided (and on hover): a long
            // title never pushes its map below the
            // others in the row. The power of ten is
            // never elided: the name gives way to it
            // (without it the numbers read wrong).
            let lines = if compact { 1 } else { 2 };
            let style = ui.style().clone();
            let job = |text: &str, max_width: f32, rows: usize| {
                let mut job = egui::text::LayoutJob::default();
                RichText::new(text).strong().size(13.0).append_to(
                    &mut job,
                    &style,
                    egui::FontSelection::Default,
                    egui::Align::Min,
                );
                job.wrap = egui::text::TextWrapping {
                    max_width,
                    max_rows: rows,
                    break_anywhere: false,
                    overflow_character: Some('…'),
                };
                job
            };
            let whole = match &factor {
                Some(factor) => format!("{text} ({factor})"),
                None => text.clone(),
            };
            let fits = ui
                .fonts_mut(|f| f.layout_job(job(&whole, width, usize::MAX)))
                .rows
                .len()
                <= lines;
            match &factor {
                Some(factor) if !fits => {
                    let power = format!(" ({factor})");
                    let power_width = ui
                        .fonts_mut(|f| f.layout_job(job(&power, f32::INFINITY, 1)))
                        .size()
                        .x;
                    ui.horizontal_top(|ui| {
                        ui.spacing_mut().item_spacing.x = 0.0;
                        let room = (width - power_width).max(12.0);
                        // Its own column, or a row's label
                        // would run on past `room`.
                        ui.allocate_ui_with_layout(
                            Vec2::new(room, title_height),
                            egui::Layout::top_down(egui::Align::Min),
                            |ui| {
                                ui.add(egui::Label::new(job(text, room, lines)).wrap())
                                    .on_hover_text(&m.title);
                            },
                        );
                        ui.add(egui::Label::new(job(&power, f32::INFINITY, 1)).extend());
                    });
                }
                _ => {
                    ui.add(egui::Label::new(job(&whole, width, lines)))
                        .on_hover_text(&m.title);
                }
            }
        });
        if m.legend {
            legend_fit(ui, m.scale, width);
        }
        // Every grid of a row starts at the same height, whatever its title
        // and colour bar took (a narrow column's bar is a line of text):
        // cells side by side stay level.
        // (`head` and the spacing `fit_cell` allows for around it.)
        let grid_top = column_top + head + if compact { 6.0 } else { 10.0 };
        let below_head = grid_top - ui.cursor().top();
        if below_head > 0.0 {
            ui.add_space(below_head);
        }
        // A column vector's labels go beside its cells
        // (after it is drawn), a row's above them.
        let column_labels = m.labels.as_ref().filter(|_| cols == 1 && m.rows > 1);
        if let Some(labels) = m.labels.as_ref().filter(|_| column_labels.is_none()) {
            let (strip, _) =
                ui.allocate_exact_size(Vec2::new(cols as f32 * cell, 16.0), egui::Sense::hover());
            // The labels' font follows the cells, so
            // that neighbours never print over each other.
            let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
            let size =
                super::heatmap::pixel_font(ui.ctx(), (cell / (widest as f32 * 0.62)).min(13.0));
            for (k, text) in labels.iter().enumerate().take(cols) {
                if size < 6.0 {
                    break;
                }
                let centre = egui::pos2(strip.left() + (k as f32 + 0.5) * cell, strip.center().y);
                ui.painter().text(
                    centre,
                    egui::Align2::CENTER_CENTER,
                    text,
                    egui::FontId::proportional(size),
                    ui.visuals().text_color(),
                );
            }
        }
        let response = heatmap.show(ui);
        if let Some(labels) = column_labels {
            let grid = response.response.rect;
            let size = super::heatmap::pixel_font(ui.ctx(), (cell * 0.8).min(13.0));
            for (k, text) in labels.iter().enumerate().take(m.rows) {
                if size < 6.0 {
                    break;
                }
                ui.painter().text(
                    egui::pos2(
                        grid.right() + 3.0,
                        grid.bottom() - (m.rows - k) as f32 * cell + 0.5 * cell,
                    ),
                    egui::Align2::LEFT_CENTER,
                    text,
                    egui::FontId::proportional(size),
                    ui.visuals().text_color(),
                );
            }
        }
        if let Some(at) = response.clicked {
            out.clicked = Some((m.id, at));
        }
        response.response.rect
    });
    out.rects.push((id, column.inner));
}

/// Where a table's second vector goes: above the matrix's columns (an outer
/// product's `xᵀ`) or below them (the column sums `δᵀ·W`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Above,
    Below,
}

/// The largest cell at which a table of a one-column `left`, `op` and a
/// `cols`-wide matrix fits `width` (the column vector as wide as a cell, or
/// its title's narrowest column).
pub fn table_cell(cols: usize, op: &str, width: f32, compact: bool) -> f32 {
    let fixed = 2.0 * gap(compact) + op_width(op, compact) + 4.0;
    let even = (width - fixed) / (cols + 1) as f32;
    if even >= MIN_VECTOR_COLUMN {
        even
    } else {
        (width - fixed - MIN_VECTOR_COLUMN) / cols.max(1) as f32
    }
}

/// A row's head (title, colour bar) with the spacing around it.
pub fn row_head(compact: bool) -> f32 {
    head(compact) + if compact { 6.0 } else { 10.0 }
}

/// A product drawn as the table it is, every operand at `cell`: `left` (a
/// column vector) beside the rows of `main`, `op` between them, and
/// `other` (a row vector) above or below `main`'s columns, each cell in
/// line with the row and the column it meets. `dW = δ · xᵀ` is δ down the
/// side, xᵀ across the top, each dW[o, k] where δ[o]'s row meets x[k]'s
/// column; `D_belowᵀ = δᵀ · W` is W weighted by δ row by row, summed down
/// each column into the row below.
pub fn table_ui(
    ui: &mut Ui,
    (left, op, main): (Operand, &str, Operand),
    (other, place, other_op): (Operand, Place, &str),
    cell: f32,
    compact: bool,
) -> RowResponse {
    let mut out = RowResponse::default();
    let head = head(compact);
    // A column's grid starts this far below its top (see `column_ui`).
    let grid_top = head + if compact { 6.0 } else { 10.0 };
    let left_width = (left.grid().1 as f32 * cell).max(MIN_VECTOR_COLUMN);
    let op_w = op_width(op, compact);
    let main_width = (main.grid().1 as f32 * cell).max(MIN_COLUMN);
    let rows = main.grid().0 as f32 * cell;
    let spacing = ui.spacing().item_spacing.y;
    // The vector over the matrix sits in the matrix's own column, so their
    // columns line up whatever the left column's title takes; the left
    // column and the operator start as far down as the matrix does.
    let above = if place == Place::Above {
        grid_top + cell + spacing
    } else {
        0.0
    };
    ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = gap(compact);
        ui.vertical(|ui| {
            ui.add_space(above);
            column_ui(
                ui,
                left,
                cell,
                Vec2::new(left_width, head + rows),
                compact,
                &mut out,
            );
        });
        ui.allocate_ui_with_layout(
            Vec2::new(op_w, above + head + rows),
            egui::Layout::top_down(egui::Align::Center),
            |ui| {
                ui.add_space((above + grid_top + rows / 2.0 - 14.0).max(0.0));
                ui.add(
                    egui::Label::new(RichText::new(op).size(20.0).strong())
                        .halign(egui::Align::Center)
                        .extend(),
                );
            },
        );
        ui.vertical(|ui| {
            let vector_size = Vec2::new(main_width, head + cell);
            let main_size = Vec2::new(main_width, head + rows);
            if place == Place::Above {
                column_ui(ui, other, cell, vector_size, compact, &mut out);
                column_ui(ui, main, cell, main_size, compact, &mut out);
            } else {
                column_ui(ui, main, cell, main_size, compact, &mut out);
                if !other_op.is_empty() {
                    ui.label(RichText::new(other_op).size(16.0).strong());
                }
                column_ui(ui, other, cell, vector_size, compact, &mut out);
            }
        });
    });
    out
}
