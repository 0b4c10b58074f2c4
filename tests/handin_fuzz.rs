//! Files handed in to `check` come from students: whatever their bytes,
//! reading them ends in tensors or a typed error, never a panic, and a
//! valid header around garbage is refused before anything large is
//! allocated.

use std::path::Path;

use backprop_viz::io::handin::{csv_from_bytes, npy_bytes, npy_from_bytes, safetensors_from_bytes};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = npy_from_bytes(Path::new("a.npy"), &bytes);
        let _ = csv_from_bytes(Path::new("a.csv"), &bytes);
        let _ = safetensors_from_bytes(Path::new("a.safetensors"), &bytes);
    }

    /// A real `.npy` with one byte changed: read or refused, never a panic,
    /// and what is read has as many values as its shape says.
    #[test]
    fn mutated_npy_files_are_read_or_refused(at in 0usize..200, value in any::<u8>(), cut in 0usize..200) {
        let t = backprop_viz::engine::Tensor::from_shape_fn(vec![3, 4, 5], |d| (d[0] + d[1] * d[2]) as f32);
        let mut bytes = npy_bytes(&t);
        let at = at % bytes.len();
        bytes[at] = value;
        bytes.truncate(bytes.len() - cut.min(bytes.len()));
        if let Ok(a) = npy_from_bytes(Path::new("m.npy"), &bytes) {
            prop_assert_eq!(a.len(), a.shape().iter().product::<usize>());
        }
    }

    /// CSV text of arbitrary rows of small numbers: read (every index once)
    /// or refused.
    #[test]
    fn csv_rows_are_read_or_refused(rows in prop::collection::vec((0usize..4, 0usize..4, -5i32..5), 0..20)) {
        let mut text = String::from("i0,i1,value\n");
        for (a, b, v) in &rows {
            text.push_str(&format!("{a},{b},{v}\n"));
        }
        if let Ok(a) = csv_from_bytes(Path::new("r.csv"), text.as_bytes()) {
            prop_assert_eq!(a.len(), rows.len());
        }
    }
}
