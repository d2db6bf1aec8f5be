//! Checks a treaty file and prints plain diagnostics (a debugging aid; the CLI is `detente check`).
fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    let checked = detente_lang::check_source(&source);
    for d in &checked.diagnostics {
        eprint!("{}", detente_lang::diag::render_plain(d, &path, &source));
    }
    eprintln!("treaty: {}", checked.treaty.is_some());
}
