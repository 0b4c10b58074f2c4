//! The "draw a digit" pad, and the two small views that go with it: the
//! 28x28 picture the network actually receives, and its ten probabilities.
//!
//! Strokes are kept in normalized coordinates, `0..1` on both axes with
//! (0, 0) at the top left (as in egui's `painting.rs` demo), so the drawing
//! survives the pad being resized and can be rasterized at any resolution.
//! What the network sees is [`DrawPad::rasterize`] at 112x112 pushed
//! through the same MNIST preprocessing as `classify` uses
//! ([`crate::data::preprocess::to_mnist`]): crop, scale to 20 px, centre of
//! mass at (14, 14).

use std::cell::RefCell;

use egui::emath::RectTransform;
use egui::{
    Color32, CornerRadius, Event, Mesh, PointerButton, Pos2, Rect, Response, Role, Sense, Shape,
    Slider, Stroke, StrokeKind, TextStyle, Ui, Vec2, WidgetInfo,
};

use crate::data::preprocess::{to_mnist, SIDE};
use crate::i18n::tr;
use crate::trf;

/// The side of the picture handed to [`to_mnist`]: four times MNIST's 28 so
/// that the downscaling averages several pixels into each output pixel
/// (smooth grey edges, as in MNIST), small enough to redo on every change.
pub const RASTER_SIDE: usize = 112;

/// The accessible name of the canvas (and what tests look it up by), in
/// English: the widget shows it through `tr`, so this is also its key.
pub const PAD_LABEL: &str = "Drawing pad";

/// The accessible name of [`preview_ui`], in English (its `tr` key).
pub const PREVIEW_LABEL: &str = "What the network sees (28x28)";

/// Default stroke width as a fraction of the pad's side. A digit two thirds
/// of the pad tall is scaled to MNIST's 20 px box, which turns 0.07 into
/// strokes about 2 px wide, close to MNIST's own.
pub const DEFAULT_BRUSH: f32 = 0.07;

/// The slider's range: at 0.02 the same digit's strokes are well under a
/// pixel wide at 28x28 (faint grey), at 0.2 about 6 px, enough to close the
/// small loops of an 8.
const BRUSH_RANGE: std::ops::RangeInclusive<f32> = 0.02..=0.2;

/// The ring around the correct answer in [`probabilities_ui`]: a green
/// that reads on both the dark and the light theme.
const CORRECT_COLOUR: Color32 = Color32::from_rgb(60, 180, 75);

/// Default side of the canvas in points: big enough to draw with a finger
/// on a touch screen, small enough to leave room for the network's views.
pub const DEFAULT_SIDE: f32 = 280.0;

/// Pointer moves shorter than this (in pad fractions) add no point: a
/// resting finger jitters, and every point costs a circle when painting.
const MIN_STEP: f32 = 0.002;

/// A digit drawn with the mouse, a finger or a pen (egui turns touch and pen
/// input into pointer events, so all three arrive the same way).
#[derive(Debug, Clone)]
pub struct DrawPad {
    /// Each stroke is the pointer's path from press to release, in
    /// normalized coordinates. Never holds an empty stroke.
    strokes: Vec<Vec<Pos2>>,
    /// The last stroke is still being drawn (the pointer has not been
    /// released), so new pointer positions extend it.
    in_stroke: bool,
    /// Stroke width as a fraction of the pad's side. One width for the whole
    /// drawing: moving the slider re-renders every stroke, so a class can
    /// watch the prediction change with the thickness alone. Private so
    /// that every change bumps `version` (see [`DrawPad::set_brush`]).
    brush: f32,
    /// Side of the canvas in points (the canvas shrinks to fit narrower
    /// space).
    pub side: f32,
    /// A 28x28 picture under the strokes (a test digit loaded from the
    /// Mistakes tab), ink = 1 on 0; strokes drawn on top add to it.
    picture: Option<Vec<f32>>,
    /// Bumped on every change, so the app can re-classify only when needed.
    version: u64,
    /// [`DrawPad::mnist_pixels`] of `version`: the app asks every frame,
    /// and would otherwise rasterize and preprocess the same drawing again
    /// each time.
    cache: RefCell<Option<(u64, Vec<f32>)>>,
}

impl Default for DrawPad {
    fn default() -> Self {
        DrawPad {
            strokes: Vec::new(),
            in_stroke: false,
            brush: DEFAULT_BRUSH,
            side: DEFAULT_SIDE,
            picture: None,
            version: 0,
            cache: RefCell::new(None),
        }
    }
}

impl DrawPad {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a finished stroke, in normalized coordinates (`0..1`, top left
    /// origin). One point is a dot; no points is ignored.
    pub fn add_stroke(&mut self, points: &[Pos2]) {
        if points.is_empty() {
            return;
        }
        self.strokes.push(points.to_vec());
        self.in_stroke = false;
        self.bump();
    }

    /// Erases the drawing (and any picture loaded under it).
    pub fn clear(&mut self) {
        // Clearing an empty pad changes nothing: no version bump, so the app
        // does not re-classify for nothing.
        if !self.is_empty() {
            self.strokes.clear();
            self.picture = None;
            self.bump();
        }
        self.in_stroke = false;
    }

    /// Replaces the drawing by a 28x28 picture (values in `[0, 1]`, ink
    /// high), e.g. a misclassified test digit: the learner can see what the
    /// network sees, draw over it to fix it, and teach it.
    pub fn set_picture(&mut self, pixels: &[f32]) {
        if pixels.len() != SIDE * SIDE {
            return;
        }
        self.strokes.clear();
        self.in_stroke = false;
        self.picture = Some(
            pixels
                .iter()
                .map(|&v| f32::from(crate::app::link::to_byte(v)) / 255.0)
                .collect(),
        );
        self.bump();
    }

    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty() && self.picture.is_none()
    }

    /// Changes whenever the drawing (or the brush width) changes.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Stroke width as a fraction of the pad's side.
    pub fn brush(&self) -> f32 {
        self.brush
    }

    /// Sets the stroke width (a fraction of the pad's side, kept within
    /// the slider's range); the whole drawing takes the new width.
    pub fn set_brush(&mut self, brush: f32) {
        let brush = if brush.is_finite() {
            brush.clamp(*BRUSH_RANGE.start(), *BRUSH_RANGE.end())
        } else {
            DEFAULT_BRUSH
        };
        if brush != self.brush {
            self.brush = brush;
            if !self.strokes.is_empty() {
                self.bump();
            }
        }
    }

    /// The strokes, in normalized coordinates.
    pub fn strokes(&self) -> &[Vec<Pos2>] {
        &self.strokes
    }

    fn bump(&mut self) {
        self.version = self.version.wrapping_add(1);
    }

    /// The canvas, a "Clear" button and the brush slider. Returns true when
    /// the drawing changed this frame.
    pub fn ui(&mut self, ui: &mut Ui) -> bool {
        let before = self.version;
        ui.vertical(|ui| {
            self.canvas_ui(ui);
            ui.horizontal(|ui| {
                if ui
                    .button(tr("Clear"))
                    .on_hover_text(tr("Erase the drawing and start again"))
                    .clicked()
                {
                    self.clear();
                }
                // Through a copy and `set_brush`, so that the version (and
                // with it the cached picture) follows the width.
                let mut brush = self.brush;
                ui.add(Slider::new(&mut brush, BRUSH_RANGE).text(tr("Brush size")))
                    .on_hover_text(tr("How thick the ink is, as a fraction of the pad. Applies to the whole drawing, so you can see how thickness alone changes the prediction."));
                self.set_brush(brush);
            });
        });
        self.version != before
    }

    /// The canvas as a custom widget (egui's toggle_switch.rs pattern:
    /// size, allocate, interact, paint).
    pub fn canvas_ui(&mut self, ui: &mut Ui) -> Response {
        // 1. Size: square, shrunk to the space available.
        let side = self.side.min(ui.available_width()).max(64.0);
        // 2. Allocate. Click as well as drag, so a tap leaves a dot.
        let (rect, mut response) =
            ui.allocate_exact_size(Vec2::splat(side), Sense::click_and_drag());

        // 3. Interact.
        let to_pad =
            RectTransform::from_to(rect, Rect::from_min_size(Pos2::ZERO, Vec2::splat(1.0)));
        if let Some(pointer) = response.interact_pointer_pos() {
            // Every position the pointer passed this frame, not only the
            // last: while the app is busy (training, big heatmaps) a frame
            // can take 50 ms, and a quick "2" drawn from one position per
            // frame would come out as a polygon of a few corners.
            let events: Vec<(Pos2, Option<bool>)> = ui.input(|i| {
                i.events
                    .iter()
                    .filter_map(|e| match *e {
                        Event::PointerMoved(p) => Some((p, None)),
                        Event::PointerButton {
                            pos,
                            button: PointerButton::Primary,
                            pressed,
                            ..
                        } => Some((pos, Some(pressed))),
                        _ => None,
                    })
                    .collect()
            });
            let starting = !self.in_stroke || self.strokes.is_empty();
            // A new stroke begins at the press; moves before it were hovering.
            let from = if starting {
                events
                    .iter()
                    .rposition(|&(_, b)| b == Some(true))
                    .unwrap_or(events.len())
            } else {
                0
            };
            let path = &events[from..];
            // ... and ends at the release.
            let to = path
                .iter()
                .position(|&(_, b)| b == Some(false))
                .map_or(path.len(), |k| k + 1);
            // Events are in global coordinates; the response in the layer's
            // (they differ inside a zoomed or panned layer).
            let from_global = ui.ctx().layer_transform_from_global(response.layer_id);
            let local = |p: Pos2| from_global.map_or(p, |t| t * p);
            let positions = path[..to]
                .iter()
                .map(|&(p, _)| local(p))
                .chain(std::iter::once(pointer));

            if starting {
                self.strokes.push(Vec::new());
                self.in_stroke = true;
            }
            let mut extended = false;
            if let Some(stroke) = self.strokes.last_mut() {
                for pos in positions {
                    // Positions outside the pad (a drag that overshoots the
                    // edge) are kept as they are: the rasterizer and the
                    // painter clip them, whereas clamping would draw a line
                    // along the border.
                    let p = to_pad * pos;
                    if stroke
                        .last()
                        .is_none_or(|last| last.distance(p) >= MIN_STEP)
                    {
                        stroke.push(p);
                        extended = true;
                    }
                }
            }
            if extended {
                self.bump();
                response.mark_changed();
            }
            // The release frame still reports a position (it is the click
            // or the end of the drag); end the stroke there so that the
            // next press starts a new one even if it comes on the very next
            // frame.
            if !response.is_pointer_button_down_on() {
                self.in_stroke = false;
            }
        } else {
            self.in_stroke = false;
        }
        // The same text as `PAD_LABEL`, written out for the translation
        // table's source scan.
        let name = tr("Drawing pad");
        response.widget_info(|| WidgetInfo::labeled(Role::Canvas, ui.is_enabled(), name));

        // 4. Paint: white ink on black, as in MNIST, so the pad already looks
        // like what the network will see.
        if ui.is_rect_visible(rect) {
            let painter = ui.painter_at(rect);
            painter.rect_filled(rect, CornerRadius::ZERO, Color32::BLACK);
            if let Some(picture) = &self.picture {
                let cell = rect.width() / SIDE as f32;
                for (k, &v) in picture.iter().enumerate().filter(|(_, v)| **v > 0.0) {
                    let min = rect.min + Vec2::new((k % SIDE) as f32, (k / SIDE) as f32) * cell;
                    let grey = (v * 255.0).round() as u8;
                    painter.rect_filled(
                        Rect::from_min_size(min, Vec2::splat(cell)),
                        CornerRadius::ZERO,
                        Color32::from_gray(grey),
                    );
                }
            }
            let from_pad = to_pad.inverse();
            let width = self.brush * rect.width();
            let ink = Stroke::new(width, Color32::WHITE);
            for stroke in &self.strokes {
                // Segments plus a disc at every point give round caps and
                // joins, matching `rasterize` (egui's paths have mitred joins
                // that show gaps at sharp turns of thick lines).
                for pair in stroke.windows(2) {
                    painter.line_segment([from_pad * pair[0], from_pad * pair[1]], ink);
                }
                for &p in stroke {
                    painter.circle_filled(from_pad * p, width / 2.0, Color32::WHITE);
                }
            }
            if self.is_empty() {
                painter.text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    tr("draw a digit here"),
                    TextStyle::Body.resolve(ui.style()),
                    Color32::from_gray(110),
                );
            }
            let frame = if response.hovered() {
                ui.visuals().widgets.hovered.bg_stroke
            } else {
                ui.visuals().widgets.noninteractive.bg_stroke
            };
            painter.rect_stroke(rect, CornerRadius::ZERO, frame, StrokeKind::Inside);
        }
        // No tooltip: it would pop up over the ink whenever the pen rests.
        response
    }

    /// The drawing as a `side`×`side` grey image, row-major, ink = 1 on
    /// 0: strokes as anti-aliased lines of width `brush * side` with round
    /// caps and joins. Empty for `side == 0`.
    pub fn rasterize(&self, side: usize) -> Vec<f32> {
        let mut img = vec![0.0f32; side * side];
        if side == 0 {
            return img;
        }
        if let Some(picture) = &self.picture {
            // Each of the picture's pixels covers a block of the raster.
            for (k, v) in img.iter_mut().enumerate() {
                let (y, x) = (k / side * SIDE / side, k % side * SIDE / side);
                *v = picture[y * SIDE + x];
            }
        }
        let scale = side as f32;
        let radius = (self.brush * scale / 2.0).max(0.5);
        for stroke in &self.strokes {
            let points: Vec<(f32, f32)> =
                stroke.iter().map(|p| (p.x * scale, p.y * scale)).collect();
            // A lone point is a segment of length zero: a round dot.
            let segments: Vec<((f32, f32), (f32, f32))> = if points.len() == 1 {
                vec![(points[0], points[0])]
            } else {
                points.windows(2).map(|w| (w[0], w[1])).collect()
            };
            for (a, b) in segments {
                stamp_segment(&mut img, side, a, b, radius);
            }
        }
        img
    }

    /// What the network sees: 784 values in `[0, 1]` (MNIST's form), or
    /// `None` for an empty pad. Cheap to call every frame: the result is
    /// kept until the drawing changes.
    pub fn mnist_pixels(&self) -> Option<Vec<f32>> {
        if self.is_empty() {
            return None;
        }
        if let (true, Some(picture)) = (self.strokes.is_empty(), &self.picture) {
            // Already MNIST's form (a test digit): exactly what the network saw.
            return Some(picture.clone());
        }
        let mut cache = self.cache.borrow_mut();
        if let Some((version, pixels)) = cache.as_ref() {
            if *version == self.version {
                return Some(pixels.clone());
            }
        }
        // A byte a pixel, as MNIST's and as a taught drawing is kept: what
        // the pad shows it thinks is what teaching it starts from.
        let pixels: Vec<f32> = to_mnist(&self.rasterize(RASTER_SIDE), RASTER_SIDE, RASTER_SIDE)
            .into_iter()
            .map(|v| f32::from(crate::app::link::to_byte(v)) / 255.0)
            .collect();
        *cache = Some((self.version, pixels.clone()));
        Some(pixels)
    }
}

/// Draws one thick segment into `img`, keeping the brighter value where
/// strokes overlap (ink does not add up: two strokes crossing are still
/// ink 1, as with a real pen). Pixel centres are at `x + 0.5`; coverage
/// falls from 1 to 0 across one pixel at the edge, the usual cheap
/// anti-aliasing for a distance field.
fn stamp_segment(img: &mut [f32], side: usize, a: (f32, f32), b: (f32, f32), radius: f32) {
    let reach = radius + 1.0;
    let x_min = (a.0.min(b.0) - reach).floor().max(0.0);
    let y_min = (a.1.min(b.1) - reach).floor().max(0.0);
    let x_max = (a.0.max(b.0) + reach).ceil().min(side as f32);
    let y_max = (a.1.max(b.1) + reach).ceil().min(side as f32);
    if x_min >= x_max || y_min >= y_max {
        // Entirely off the image (a drag that left the pad).
        return;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for y in y_min as usize..y_max as usize {
        for x in x_min as usize..x_max as usize {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            // Distance from the pixel centre to the closest point of the
            // segment.
            let t = if len2 > 0.0 {
                (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
            let d = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            let coverage = (radius + 0.5 - d).clamp(0.0, 1.0);
            let v = &mut img[y * side + x];
            *v = v.max(coverage);
        }
    }
}

/// Paints a square grey image (e.g. MNIST's 28x28, values in `[0, 1]`,
/// row-major, 1 = white) as `size`×`size` points of crisp, nearest-neighbour
/// squares. A buffer that is not a square number of values shows as an empty
/// frame rather than a wrong picture.
pub fn preview_ui(ui: &mut Ui, pixels: &[f32], size: f32) -> Response {
    // 1. Size and 2. allocate.
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size), Sense::hover());
    let n = pixels.len().isqrt();
    let square = n > 0 && n * n == pixels.len();
    // The same text as `PREVIEW_LABEL`, written out for the source scan.
    let name = tr("What the network sees (28x28)");
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, name));
    // 3. Interact: nothing but the tooltip.
    // 4. Paint: one mesh of quads rather than one rect shape per pixel:
    // quads in a mesh share edges exactly, so no hairline seams appear
    // between neighbours, and it is a single shape for the renderer.
    if ui.is_rect_visible(rect) {
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, CornerRadius::ZERO, Color32::BLACK);
        if square {
            let cell = rect.width() / n as f32;
            let mut mesh = Mesh::default();
            for (i, &v) in pixels.iter().enumerate() {
                let v = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                // Black is the background already: skip it (most of MNIST).
                if v <= 0.0 {
                    continue;
                }
                let (row, col) = (i / n, i % n);
                let min = rect.min + Vec2::new(col as f32 * cell, row as f32 * cell);
                let grey = (v * 255.0).round() as u8;
                mesh.add_colored_rect(
                    Rect::from_min_size(min, Vec2::splat(cell)),
                    Color32::from_gray(grey),
                );
            }
            painter.add(Shape::mesh(mesh));
        }
        painter.rect_stroke(
            rect,
            CornerRadius::ZERO,
            ui.visuals().widgets.noninteractive.bg_stroke,
            StrokeKind::Outside,
        );
    }
    let tip = if square {
        trf!(
            "The drawing after MNIST's preprocessing: cropped, scaled to fit 20x20, centred by its centre of mass in {side}x{side}. This is the network's input.",
            side = SIDE
        )
    } else {
        tr("No picture").to_string()
    };
    response.on_hover_text(tip)
}

/// Ten horizontal bars, one per digit, with the percentage printed on each
/// and the most probable digit highlighted; sized from the ui's heading
/// font so they read from the back of a classroom. `label` is the correct
/// answer when it is known (a test digit); it is ringed in green.
///
/// Accepts fewer or more than ten values (one bar each); an empty slice
/// shows a line of text instead.
pub fn probabilities_ui(ui: &mut Ui, probs: &[f32], label: Option<u8>) {
    if probs.is_empty() {
        ui.label(tr("No prediction yet"));
        return;
    }
    let clean = |p: f32| {
        if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let best = probs
        .iter()
        .enumerate()
        .max_by(|a, b| clean(*a.1).total_cmp(&clean(*b.1)))
        .map(|(i, _)| i);
    let font = TextStyle::Heading.resolve(ui.style());
    // On a small window the rows are as tall as their font, so that a
    // projector shows all ten beside the pad.
    let row_height = if crate::app::style::compact(ui.ctx()) {
        font.size * 1.05
    } else {
        font.size * 1.4
    };
    let visuals = ui.visuals().clone();
    for (digit, &p) in probs.iter().enumerate() {
        let p = clean(p);
        let is_best = best == Some(digit);
        let is_answer = label.is_some_and(|l| usize::from(l) == digit);
        let text = trf!(
            "digit {digit}: {percent} %",
            digit = digit,
            percent = format!("{:.1}", p * 100.0)
        );

        // 1. Size: the full width, one heading line tall.
        let width = ui.available_width().max(120.0);
        // 2. Allocate.
        let (rect, response) = ui.allocate_exact_size(Vec2::new(width, row_height), Sense::hover());
        // 3. Interact: only the accessible description and a tooltip.
        response.widget_info(|| {
            let mut info = WidgetInfo::labeled(Role::Meter, true, &text);
            info.value = Some(f64::from(p) * 100.0);
            info
        });
        // 4. Paint.
        if ui.is_rect_visible(rect) {
            let painter = ui.painter_at(rect);
            let strong = visuals.strong_text_color();
            let digit_width = font.size * 1.6;
            let percent_width = font.size * 4.2;
            let digit_centre = Pos2::new(rect.left() + digit_width * 0.5, rect.center().y);
            if is_answer {
                // A ring around the correct digit. Painted, not a "✔"
                // character: the default fonts have no such glyph.
                painter.circle_stroke(
                    digit_centre,
                    row_height * 0.45,
                    Stroke::new(2.5, CORRECT_COLOUR),
                );
            }
            painter.text(
                digit_centre,
                egui::Align2::CENTER_CENTER,
                digit.to_string(),
                font.clone(),
                if is_best {
                    strong
                } else {
                    visuals.text_color()
                },
            );
            let track = Rect::from_min_max(
                Pos2::new(rect.left() + digit_width, rect.top() + row_height * 0.15),
                Pos2::new(
                    (rect.right() - percent_width).max(rect.left() + digit_width + 10.0),
                    rect.bottom() - row_height * 0.15,
                ),
            );
            painter.rect_filled(track, CornerRadius::same(3), visuals.extreme_bg_color);
            let fill = Rect::from_min_size(track.min, Vec2::new(track.width() * p, track.height()));
            let colour = if is_best {
                visuals.selection.bg_fill
            } else {
                visuals.widgets.inactive.bg_fill
            };
            painter.rect_filled(fill, CornerRadius::same(3), colour);
            if is_best {
                painter.rect_stroke(
                    track,
                    CornerRadius::same(3),
                    Stroke::new(2.0, visuals.selection.stroke.color),
                    StrokeKind::Outside,
                );
            }
            painter.text(
                Pos2::new(rect.right(), rect.center().y),
                egui::Align2::RIGHT_CENTER,
                format!("{:.1} %", p * 100.0),
                font.clone(),
                if is_best {
                    strong
                } else {
                    visuals.text_color()
                },
            );
        }
        let mut tip = text.clone();
        if is_best {
            tip.push(' ');
            tip.push_str(tr("(the network's answer)"));
        }
        if is_answer {
            tip.push(' ');
            tip.push_str(tr("(the correct answer)"));
        }
        response.on_hover_text(tip);
    }
    if let Some(l) = label {
        ui.label(trf!("Correct answer: {label}", label = l));
    }
}
