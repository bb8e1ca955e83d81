//! Progress bars on a terminal (indicatif), hidden when stderr is not one or output is for scripts.

/// A bar of `len` steps labelled `label` (`collect`, `images`, `sync`) on stderr when `show` and
/// stderr is a terminal; a hidden bar (every call a no-op) otherwise.
pub fn bar(len: u64, label: &str, show: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {label} [{{bar:30}}] {{pos}}/{{len}} {{wide_msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}
