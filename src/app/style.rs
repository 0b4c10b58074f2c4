//! The look every panel shares: when the window counts as small (a 720p
//! projector), the colours of the three directions the numbers travel, the
//! fonts and text sizes, a view's title, a shape in words.

use egui::{Color32, RichText, Ui};

/// The colour of the forward pass, the backward pass and the update.
pub const FORWARD: Color32 = Color32::from_rgb(60, 120, 216);
pub const BACKWARD: Color32 = Color32::from_rgb(230, 120, 20);
pub const UPDATE: Color32 = Color32::from_rgb(40, 160, 80);
/// Errors and wrong answers.
pub const ERROR: Color32 = Color32::from_rgb(220, 60, 60);
/// Right answers.
pub const RIGHT: Color32 = Color32::from_rgb(40, 170, 80);

/// Below this width (in points) the controls fold into two rows and the
/// network settings into a menu: a 720p projector at 1.4x is 914 points wide.
pub const COMPACT_WIDTH: f32 = 1200.0;
/// See [`compact`].
pub const COMPACT_HEIGHT: f32 = 640.0;

/// Whether the window is small enough that every panel folds to leave room
/// for the views: narrower than `COMPACT_WIDTH` or lower than
/// `COMPACT_HEIGHT` points (a 1280x720 projector at 1.4x is 914x514).
pub fn compact(ctx: &egui::Context) -> bool {
    let screen = ctx.content_rect();
    screen.width() < COMPACT_WIDTH || screen.height() < COMPACT_HEIGHT
}

/// A view's title; none on a small window, where the phase line above
/// already says it and the maps need the room.
pub fn heading_ui(ui: &mut Ui, compact: bool, text: &str, colour: Color32) {
    if !compact {
        ui.label(RichText::new(text).color(colour).heading());
    }
}

/// A sentence about the step above its maps: whole on a large window; on
/// a small one a single line (whole on hover), so that the maps keep the
/// height.
pub fn note_ui(ui: &mut Ui, text: &str, strong: bool) {
    let rich = if strong {
        RichText::new(text).strong()
    } else {
        RichText::new(text)
    };
    if compact(ui.ctx()) {
        ui.add(egui::Label::new(rich).truncate());
    } else {
        ui.add(egui::Label::new(rich).wrap());
    }
}

/// A per-sample shape as people write it: `1x28x28`.
pub fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// DejaVu backs up egui's fonts for the maths (Σ ⋆ ′ → ✓) and Cyrillic.
pub fn setup_fonts(ctx: &egui::Context) {
    use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
    for (name, bytes, family) in [
        (
            "DejaVuSans",
            &include_bytes!("../../assets/fonts/DejaVuSans.ttf")[..],
            egui::FontFamily::Proportional,
        ),
        (
            "DejaVuSansMono",
            &include_bytes!("../../assets/fonts/DejaVuSansMono.ttf")[..],
            egui::FontFamily::Monospace,
        ),
    ] {
        ctx.add_font(FontInsert::new(
            name,
            egui::FontData::from_static(bytes),
            vec![InsertFontFamily {
                family,
                priority: FontPriority::Lowest,
            }],
        ));
    }
}

/// Larger text than egui's default: the app is read from the back of a
/// room. Projector mode scales everything up by 1.4 and strengthens text.
pub fn setup_style(ctx: &egui::Context, projector: bool, scale: f32) {
    let scale = if scale.is_finite() {
        scale.clamp(0.5, 3.0)
    } else {
        1.0
    };
    ctx.set_zoom_factor(scale * if projector { 1.4 } else { 1.0 });
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        let strong = if style.visuals.dark_mode {
            Color32::WHITE
        } else {
            Color32::BLACK
        };
        style.visuals.override_text_color = projector.then_some(strong);
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(24.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(16.0, FontFamily::Proportional)),
            (
                TextStyle::Monospace,
                FontId::new(15.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Button,
                FontId::new(16.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(13.0, FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
    });
}
