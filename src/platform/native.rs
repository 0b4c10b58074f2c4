//! What only the desktop has, or does its own way: a link is only its
//! fragment (the program opens it with `--link`).

/// The link to share for a moment: on the desktop, the fragment itself.
pub fn share_link(fragment: &str) -> String {
    fragment.to_string()
}
