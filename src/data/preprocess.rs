//! Turning any picture of a digit into what MNIST's authors made of theirs.
//!
//! A network trained on MNIST has only ever seen one kind of picture:
//! a white digit on black, 28x28, its ink scaled so that the longer side of
//! its bounding box is 20 pixels (aspect ratio kept, anti-aliased), then
//! shifted so that its centre of mass sits at the centre of the frame.
//! (LeCun, Cortes & Burges, "The MNIST database": "normalized to fit in a
//! 20x20 pixel box while preserving their aspect ratio … centered in a
//! 28x28 image by computing the center of mass of the pixels".) A photo of
//! a digit on paper or a drawing on the GUI's pad looks nothing like that
//! until it goes through the same steps, which is what [`to_mnist`] does:
//!
//! 1. **Polarity.** The background is whatever the border mostly shows
//!    (the median of the border pixels). A light border means dark ink on
//!    light paper, so the picture is inverted; either way ink ends up
//!    bright.
//! 2. **Ink.** The background level is subtracted and negatives clamped to
//!    zero, then the ink is scaled so that its strongest pixel is 1, as in
//!    MNIST where almost every digit reaches 255. No threshold: faint,
//!    anti-aliased edges are kept as they are.
//! 3. **Bounding box** of the ink, ignoring pixels fainter than
//!    [`BOX_THRESHOLD`] of the strongest (paper grain, JPEG noise).
//! 4. **Scale** the box so that its longer side is [`BOX_SIDE`] = 20 pixels,
//!    separately per axis: area averaging when shrinking (a 2-pixel stroke
//!    in a 400-pixel photo stays visible as a faint line instead of being
//!    skipped by point sampling), bilinear when enlarging.
//! 5. **Centre** it in the 28x28 frame by its centre of mass, shifted by a
//!    whole number of pixels (rounded), clipped at the borders. The target
//!    is (14, 14) in pixel-index coordinates (row and column indices
//!    weighted by ink): MNIST's own test set averages (13.99, 14.01) there.
//!
//! Output: 784 `f32` in `[0, 1]`, row-major, white ink on black, the same
//! `value / 255` scale as [`crate::data::dataset::Dataset::batch_input`].
//! Known limits: the background is taken to be uniform (a photo with a
//! strong shadow across the paper can make part of the shadow count as
//! ink), and the border must be mostly background (a crop so tight that
//! ink covers more than half of the border flips the polarity).

use std::io::Cursor;
use std::path::Path;

use image::DynamicImage;

use crate::data::dataset::read_file_capped;
use crate::io::file::{FileError, Problem};

/// MNIST's frame: 28x28 pixels.
pub const SIDE: usize = 28;

/// The longer side of the digit's bounding box after scaling.
pub const BOX_SIDE: usize = 20;

/// Where the centre of mass goes, in pixel-index coordinates (row, col).
pub const CENTRE: f32 = 14.0;

/// Pixels fainter than this fraction of the strongest ink do not widen the
/// bounding box. They are still kept inside it.
pub const BOX_THRESHOLD: f32 = 0.1;

/// Below this (on the 0–1 scale, after subtracting the background) the
/// strongest "ink" is taken to be noise and the picture blank: about 5/255,
/// under JPEG's usual error on a flat area.
pub const MIN_INK: f32 = 0.02;

/// Turns a grey picture into MNIST's form; see the module documentation for
/// the steps.
///
/// `gray` is row-major, `width * height` values, 0 = black and 1 = white
/// (values outside `[0, 1]` are clamped, NaN counts as black). Either
/// polarity works. A picture with no ink (blank, or one flat grey) gives
/// all zeros, which is a valid (if uninformative) input, not an error: the
/// GUI calls this on an empty pad.
///
/// Returns a `Vec` of exactly 784 values (rather than `[f32; 784]`) because
/// every consumer builds a tensor from it, and `Tensor::from_shape_vec`
/// takes a `Vec`.
///
/// # Panics
/// If `gray.len() != width * height`: the caller built the buffer, so a
/// mismatch is a bug in the caller.
pub fn to_mnist(gray: &[f32], width: usize, height: usize) -> Vec<f32> {
    assert_eq!(
        gray.len(),
        width.saturating_mul(height),
        "to_mnist: {width}x{height} picture needs {} values, got {}",
        width.saturating_mul(height),
        gray.len()
    );
    let mut out = vec![0.0; SIDE * SIDE];
    if width == 0 || height == 0 {
        return out;
    }
    let clean = |v: f32| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };

    // 1. Polarity, from the median of the border.
    let mut border: Vec<f32> = Vec::with_capacity(2 * (width + height));
    border.extend(gray[..width].iter().map(|&v| clean(v)));
    border.extend(gray[(height - 1) * width..].iter().map(|&v| clean(v)));
    for y in 1..height.saturating_sub(1) {
        border.push(clean(gray[y * width]));
        border.push(clean(gray[y * width + width - 1]));
    }
    let mid = border.len() / 2;
    let (_, &mut paper, _) = border.select_nth_unstable_by(mid, f32::total_cmp);
    let light_paper = paper > 0.5;

    // 2. Ink: bright, background removed.
    let background = if light_paper { 1.0 - paper } else { paper };
    let mut ink: Vec<f32> = gray
        .iter()
        .map(|&v| {
            let v = clean(v);
            let v = if light_paper { 1.0 - v } else { v };
            (v - background).max(0.0)
        })
        .collect();
    let strongest = ink.iter().copied().fold(0.0, f32::max);
    if strongest < MIN_INK {
        return out;
    }
    for v in &mut ink {
        *v /= strongest;
    }

    // 3. Bounding box of the clear ink. Not empty: the strongest pixel is 1.
    let (mut x0, mut x1, mut y0, mut y1) = (width, 0, height, 0);
    for (y, row) in ink.chunks_exact(width).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if v >= BOX_THRESHOLD {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);

    // 4. Scale so that the longer side is BOX_SIDE.
    let longer = bw.max(bh) as f32;
    let out_w = ((bw as f32 * BOX_SIDE as f32 / longer).round() as usize).clamp(1, BOX_SIDE);
    let out_h = ((bh as f32 * BOX_SIDE as f32 / longer).round() as usize).clamp(1, BOX_SIDE);
    let horizontal = resample_weights(bw, out_w);
    let vertical = resample_weights(bh, out_h);
    // Rows first: [bh, bw] -> [bh, out_w] -> [out_h, out_w].
    let mut wide = vec![0.0f32; bh * out_w];
    for y in 0..bh {
        let src = &ink[(y0 + y) * width + x0..(y0 + y) * width + x0 + bw];
        for (x, taps) in horizontal.iter().enumerate() {
            wide[y * out_w + x] = taps.iter().map(|&(i, w)| src[i] * w).sum();
        }
    }
    let mut digit = vec![0.0f32; out_h * out_w];
    for (y, taps) in vertical.iter().enumerate() {
        for x in 0..out_w {
            digit[y * out_w + x] = taps.iter().map(|&(i, w)| wide[i * out_w + x] * w).sum();
        }
    }

    // 5. Centre of mass to CENTRE, by a whole-pixel shift.
    let (mut mass, mut my, mut mx) = (0.0f64, 0.0f64, 0.0f64);
    for (y, row) in digit.chunks_exact(out_w).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            mass += f64::from(v);
            my += f64::from(v) * y as f64;
            mx += f64::from(v) * x as f64;
        }
    }
    if mass <= 0.0 {
        return out;
    }
    let dy = (f64::from(CENTRE) - my / mass).round() as isize;
    let dx = (f64::from(CENTRE) - mx / mass).round() as isize;
    for (y, row) in digit.chunks_exact(out_w).enumerate() {
        let ty = y as isize + dy;
        if !(0..SIDE as isize).contains(&ty) {
            continue;
        }
        for (x, &v) in row.iter().enumerate() {
            let tx = x as isize + dx;
            if (0..SIDE as isize).contains(&tx) {
                out[ty as usize * SIDE + tx as usize] = v.clamp(0.0, 1.0);
            }
        }
    }
    out
}

/// For each of `n_out` output samples along one axis, the source indices
/// and weights (summing to 1) that make it from `n_in` source samples.
///
/// Shrinking: each output pixel covers `n_in / n_out` source pixels and
/// averages them by overlap (a box filter), so every source pixel
/// contributes and thin strokes fade instead of vanishing. Enlarging:
/// bilinear between the two nearest source centres, edges clamped.
/// Equal sizes give the identity.
fn resample_weights(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|j| {
            if n_in > n_out {
                let (start, end) = (j as f64 * scale, (j + 1) as f64 * scale);
                let first = start.floor() as usize;
                let last = (end.ceil() as usize).min(n_in);
                (first..last)
                    .filter_map(|i| {
                        let overlap = (end.min(i as f64 + 1.0) - start.max(i as f64)) / scale;
                        (overlap > 0.0).then_some((i, overlap as f32))
                    })
                    .collect()
            } else {
                let src = ((j as f64 + 0.5) * scale - 0.5).clamp(0.0, (n_in - 1) as f64);
                let i = src.floor() as usize;
                let frac = (src - i as f64) as f32;
                if i + 1 < n_in && frac > 0.0 {
                    vec![(i, 1.0 - frac), (i + 1, frac)]
                } else {
                    vec![(i, 1.0)]
                }
            }
        })
        .collect()
}

/// A decoded picture as grey values in `[0, 1]` (row-major) with its width
/// and height.
///
/// Transparency is resolved by compositing over a backdrop opposite to the
/// ink: a digit drawn in black on a transparent canvas is put on white, one
/// drawn in white is put on black. (Compositing over a fixed colour would
/// erase one of the two, and the colour under a transparent pixel is
/// usually meaningless black.) The ink is taken to be the mostly opaque
/// pixels.
pub fn gray_from_image(img: &DynamicImage) -> (Vec<f32>, usize, usize) {
    let la = img.to_luma_alpha8();
    let (w, h) = (la.width() as usize, la.height() as usize);
    let opaque = la.pixels().all(|p| p.0[1] == u8::MAX);
    let backdrop = if opaque {
        0.0
    } else {
        let (sum, count) = la
            .pixels()
            .filter(|p| p.0[1] >= 128)
            .fold((0.0f64, 0usize), |(s, c), p| (s + f64::from(p.0[0]), c + 1));
        let mean = if count == 0 {
            0.0
        } else {
            sum / count as f64 / 255.0
        };
        if mean < 0.5 {
            1.0
        } else {
            0.0
        }
    };
    let gray = la
        .pixels()
        .map(|p| {
            let (l, a) = (f32::from(p.0[0]) / 255.0, f32::from(p.0[1]) / 255.0);
            a * l + (1.0 - a) * backdrop
        })
        .collect();
    (gray, w, h)
}

/// [`to_mnist`] for a decoded picture (see [`gray_from_image`] for colour
/// and transparency).
pub fn image_to_mnist(img: &DynamicImage) -> Vec<f32> {
    let (gray, w, h) = gray_from_image(img);
    to_mnist(&gray, w, h)
}

/// Pictures with more pixels than this are refused before decoding: a phone
/// photo has 12 to 50 million; a 533-byte PNG can claim 22000x22000.
pub const MAX_PIXELS: u64 = 50_000_000;

/// Reads a PNG or JPEG file (recognised by its content, not its name) and
/// returns it in MNIST's form: 784 values, white ink on black, `[0, 1]`.
///
/// The header's size is read first and anything over [`MAX_PIXELS`] is
/// refused; the decoder is then held to exactly that size and to the bytes
/// its pixels need, so no claim in a file makes it allocate more.
pub fn load_picture(path: &Path) -> Result<Vec<f32>, FileError> {
    let bytes = read_file_capped(path)?;
    picture_from_bytes(path, &bytes)
}

/// A PNG or JPEG already in memory (dropped in the browser), in MNIST's form.
pub fn picture_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<f32>, FileError> {
    Ok(image_to_mnist(
        &decode_picture(bytes).map_err(|p| FileError::new(path, p))?,
    ))
}

/// Decodes a PNG or JPEG held in memory, within [`MAX_PIXELS`].
pub fn decode_picture(bytes: &[u8]) -> Result<DynamicImage, Problem> {
    use image::ImageDecoder;
    let cannot = |e: image::ImageError| Problem::CannotDecode {
        detail: e.to_string(),
    };
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Problem::CannotDecode {
            detail: e.to_string(),
        })?;
    if !matches!(
        reader.format(),
        Some(image::ImageFormat::Png | image::ImageFormat::Jpeg)
    ) {
        return Err(Problem::NotAPicture);
    }
    // The crate's default limits would refuse some huge pictures with its
    // own words before the size is known: take the size first, then hold
    // the decoder to it.
    let mut reader = reader;
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(cannot)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Problem::TooManyPixels {
            width,
            height,
            limit: MAX_PIXELS,
        });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // The pixels themselves plus the decoder's own working buffers.
    limits.max_alloc = Some(decoder.total_bytes().saturating_add(64 << 20));
    decoder.set_limits(limits).map_err(cannot)?;
    DynamicImage::from_decoder(decoder).map_err(cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one() {
        for (n_in, n_out) in [(1, 20), (7, 20), (20, 20), (21, 20), (400, 20), (3, 1)] {
            for taps in resample_weights(n_in, n_out) {
                let s: f32 = taps.iter().map(|t| t.1).sum();
                assert!((s - 1.0).abs() < 1e-5, "{n_in}->{n_out}: {s}");
                assert!(taps.iter().all(|&(i, _)| i < n_in));
            }
        }
    }

    #[test]
    fn equal_size_is_identity() {
        for (j, taps) in resample_weights(20, 20).iter().enumerate() {
            assert_eq!(taps, &vec![(j, 1.0)]);
        }
    }
}
