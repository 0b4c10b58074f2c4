//! Training-time augmentation: small random distortions of each training
//! image, so that the shipped model copes with people's drawings.
//!
//! MNIST digits are unusually tidy: size-normalised, centred by centre of
//! mass, written with similar pens. Drawings on the GUI's pad and photos go
//! through the same normalisation ([`crate::data::preprocess`]), but they
//! still lean more, are thicker or thinner, and land a pixel or two off.
//! A network that never saw such variation is brittle to it; one trained on
//! randomly tilted, scaled, sheared, shifted, thickened and thinned copies
//! is not, and still learns the same digits (none of these changes turns
//! one digit into another, within these ranges: ±15° keeps a 6 a 6).
//!
//! Everything random is drawn from the `rng` passed in, always the same
//! number of draws per image, so a seeded run is reproducible and one
//! image's choices never shift the next image's.
//!
//! Cost: one bilinear sample per output pixel plus an optional 3x3
//! morphology pass, about 1–2 µs for a 28x28 image in release builds.

use rand::Rng;

/// How much of a dilation is blended in when thickening, uniform in this
/// range: up to the full 3x3 maximum, about one pixel more stroke.
const THICKEN_STRENGTH: (f32, f32) = (0.5, 1.0);

/// How much of an erosion is blended in when thinning. Measured on MNIST's
/// test set: a full cross erosion leaves as little as 15% of a digit's
/// ink, at most 60% of it keeps every digit above ~45%.
const THIN_STRENGTH: (f32, f32) = (0.25, 0.6);

/// The ranges of the random distortions. Each is drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AugmentConfig {
    /// Rotation in degrees, uniform in `[-max, max]`.
    pub max_rotation_deg: f32,
    /// Scale factor, uniform in `[min_scale, max_scale]`. Below 1 leaves
    /// room for the shift; MNIST's 20-pixel box in a 28-pixel frame allows
    /// up to ~1.15 before strokes leave the frame.
    pub min_scale: f32,
    pub max_scale: f32,
    /// Horizontal shear `x += shear * y` (about the centre), uniform in
    /// `[-max, max]`; slanted handwriting.
    pub max_shear: f32,
    /// Shift in pixels along each axis, uniform in `[-max, max]`: sub-pixel
    /// shifts too, since people's digits are not centred to the pixel.
    pub max_shift: f32,
    /// Probability of thickening the strokes (grey dilation).
    pub thicken_probability: f32,
    /// Probability of thinning the strokes (grey erosion), tried only when
    /// not thickening.
    pub thin_probability: f32,
}

impl Default for AugmentConfig {
    /// The ranges the shipped model was trained with.
    fn default() -> Self {
        AugmentConfig {
            max_rotation_deg: 15.0,
            min_scale: 0.8,
            max_scale: 1.15,
            max_shear: 0.2,
            max_shift: 3.0,
            thicken_probability: 0.3,
            thin_probability: 0.15,
        }
    }
}

impl AugmentConfig {
    /// No distortion at all: [`augment_with`] then just converts to
    /// `value / 255` (exactly, as the sampling positions are whole pixels).
    /// Handy to check that augmentation is what changes a result.
    pub fn none() -> Self {
        AugmentConfig {
            max_rotation_deg: 0.0,
            min_scale: 1.0,
            max_scale: 1.0,
            max_shear: 0.0,
            max_shift: 0.0,
            thicken_probability: 0.0,
            thin_probability: 0.0,
        }
    }
}

/// Writes a randomly distorted copy of `image` (`rows x cols` bytes,
/// row-major) into `out` as `value / 255`, with [`AugmentConfig::default`].
///
/// # Panics
/// If `image` or `out` does not hold `rows * cols` values.
pub fn augment<R: Rng + ?Sized>(
    image: &[u8],
    rows: usize,
    cols: usize,
    rng: &mut R,
    out: &mut [f32],
) {
    augment_with(&AugmentConfig::default(), image, rows, cols, rng, out);
}

/// [`augment`] with explicit ranges.
///
/// The distortion is an affine map about the image centre
/// `q = c + t + R(θ)·Shear·s·(p − c)`, applied by inverse mapping: for each
/// output pixel `q`, sample the source at `p` bilinearly, with black outside
/// the source (MNIST's background). Stroke thickness is changed first, on
/// the source: grey dilation (max) or erosion (min) over the cross-shaped
/// 3x3 neighbourhood, or for thickening sometimes the full 3x3 square,
/// blended with the original by a random strength so thickness varies
/// smoothly instead of in whole pixels.
///
/// # Panics
/// If `image` or `out` does not hold `rows * cols` values.
pub fn augment_with<R: Rng + ?Sized>(
    cfg: &AugmentConfig,
    image: &[u8],
    rows: usize,
    cols: usize,
    rng: &mut R,
    out: &mut [f32],
) {
    let n = rows * cols;
    assert_eq!(image.len(), n, "augment: image must hold rows * cols bytes");
    assert_eq!(out.len(), n, "augment: out must hold rows * cols values");
    if n == 0 {
        return;
    }

    // Every draw happens every time, in this order, whatever is used.
    let mut uniform = |lo: f32, hi: f32| lo + (hi - lo) * rng.random::<f32>();
    let angle = uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg).to_radians();
    let scale = uniform(cfg.min_scale, cfg.max_scale);
    let shear = uniform(-cfg.max_shear, cfg.max_shear);
    let shift_x = uniform(-cfg.max_shift, cfg.max_shift);
    let shift_y = uniform(-cfg.max_shift, cfg.max_shift);
    let morph_choice = uniform(0.0, 1.0);
    let square = uniform(0.0, 1.0) < 0.3;
    let strength_draw = uniform(0.0, 1.0);

    let morph = if morph_choice < cfg.thicken_probability {
        Some(true)
    } else if morph_choice < cfg.thicken_probability + cfg.thin_probability {
        Some(false)
    } else {
        None
    };
    // Blend strengths. Thinning is gentler: a full erosion wipes out
    // MNIST's 2-pixel strokes (a "1" would become a blank labelled 1).
    let strength = match morph {
        Some(true) => {
            THICKEN_STRENGTH.0 + (THICKEN_STRENGTH.1 - THICKEN_STRENGTH.0) * strength_draw
        }
        _ => THIN_STRENGTH.0 + (THIN_STRENGTH.1 - THIN_STRENGTH.0) * strength_draw,
    };

    // The source as value/255 in a zero frame: one pixel wide on the top and
    // left, two on the bottom and right. The frame is the black outside of
    // the image: 3x3 neighbourhoods and bilinear taps read it instead of
    // testing bounds, and clamping a sample position into
    // `[-1, cols] x [-1, rows]` lands every outside sample on zeros.
    let (pw, ph) = (cols + 3, rows + 3);
    let mut padded = vec![0.0f32; pw * ph];
    for (src, dst) in image
        .chunks_exact(cols)
        .zip(padded[pw..].chunks_exact_mut(pw))
    {
        for (d, &s) in dst[1..=cols].iter_mut().zip(src) {
            *d = f32::from(s) / 255.0;
        }
    }
    if let Some(thicken) = morph {
        padded = match (thicken, square) {
            (true, true) => morphology::<true, true>(&padded, rows, cols, strength),
            (true, false) => morphology::<true, false>(&padded, rows, cols, strength),
            (false, _) => morphology::<false, false>(&padded, rows, cols, strength),
        };
    }

    // Inverse of M = R(θ) · [[1, shear], [0, 1]] · scale.
    let (sin, cos) = angle.sin_cos();
    let m = [
        [cos * scale, (cos * shear - sin) * scale],
        [sin * scale, (sin * shear + cos) * scale],
    ];
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let inv = [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ];
    let (cx, cy) = ((cols as f32 - 1.0) / 2.0, (rows as f32 - 1.0) / 2.0);
    let (xmax, ymax) = (cols as f32, rows as f32);
    for (y, out_row) in out.chunks_exact_mut(cols).enumerate() {
        let qy = y as f32 - cy - shift_y;
        // Source position at x = 0 of this row, then a step per column.
        let mut px = inv[0][1] * qy + inv[0][0] * (-cx - shift_x) + cx;
        let mut py = inv[1][1] * qy + inv[1][0] * (-cx - shift_x) + cy;
        for o in out_row.iter_mut() {
            // Into the padded frame (+1), clamped onto its zero border:
            // fx in [0, cols + 1], so the taps x0 and x0 + 1 <= cols + 2.
            let fx = clamp(px, -1.0, xmax) + 1.0;
            let fy = clamp(py, -1.0, ymax) + 1.0;
            // Signed 32-bit conversions are single instructions on x86;
            // unsigned 64-bit ones are not. Both values are >= 0 here.
            let (x0, y0) = (fx as i32, fy as i32);
            let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
            let i = (y0 as usize) * pw + x0 as usize;
            let taps = &padded[i..i + pw + 2];
            let top = taps[0] + (taps[1] - taps[0]) * ax;
            let bottom = taps[pw] + (taps[pw + 1] - taps[pw]) * ax;
            *o = clamp(top + (bottom - top) * ay, 0.0, 1.0);
            px += inv[0][0];
            py += inv[1][0];
        }
    }
}

/// `v` limited to `[lo, hi]`, as two compares: unlike `f32::clamp`, no
/// NaN handling and no `lo <= hi` assertion in the per-pixel loop.
#[inline(always)]
fn clamp(v: f32, lo: f32, hi: f32) -> f32 {
    let v = if v < lo { lo } else { v };
    if v > hi {
        hi
    } else {
        v
    }
}

/// Grey dilation (`DILATE`: max) or erosion (min) of a padded image over
/// the cross (centre and four neighbours) or, with `SQUARE`, the full 3x3,
/// blended with the original: `v + (m - v) * strength`. The zero frame
/// counts as black outside the image. Same layout in and out.
fn morphology<const DILATE: bool, const SQUARE: bool>(
    padded: &[f32],
    rows: usize,
    cols: usize,
    strength: f32,
) -> Vec<f32> {
    let pw = cols + 3;
    let pick = |a: f32, b: f32| {
        if DILATE == (a > b) {
            a
        } else {
            b
        }
    };
    let mut result = vec![0.0f32; padded.len()];
    for y in 1..=rows {
        let up = &padded[(y - 1) * pw..y * pw];
        let mid = &padded[y * pw..(y + 1) * pw];
        let down = &padded[(y + 1) * pw..(y + 2) * pw];
        let dst = &mut result[y * pw..(y + 1) * pw];
        for x in 1..=cols {
            let v = mid[x];
            let mut m = pick(pick(pick(pick(v, mid[x - 1]), mid[x + 1]), up[x]), down[x]);
            if SQUARE {
                m = pick(
                    pick(pick(pick(m, up[x - 1]), up[x + 1]), down[x - 1]),
                    down[x + 1],
                );
            }
            dst[x] = v + (m - v) * strength;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn none_is_exact_conversion() {
        let image: Vec<u8> = (0..28 * 28).map(|i| (i * 7 % 256) as u8).collect();
        let mut out = vec![0.0; 28 * 28];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        augment_with(&AugmentConfig::none(), &image, 28, 28, &mut rng, &mut out);
        for (o, &i) in out.iter().zip(&image) {
            assert!((o - f32::from(i) / 255.0).abs() < 1e-6);
        }
    }
}
