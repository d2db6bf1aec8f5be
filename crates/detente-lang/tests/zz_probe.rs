use detente_lang::{check_source, format::format_source, parse};
#[test]
fn probe() {
    let which = std::env::var("WHICH").unwrap();
    let n: usize = std::env::var("N").unwrap().parse().unwrap();
    let stack: usize = std::env::var("STACK").unwrap().parse().unwrap();
    let kind = std::env::var("KIND").unwrap_or_default();
    std::thread::Builder::new().stack_size(stack).spawn(move || {
        let s = if kind == "not" {
            // deepest accepted: nots then a chain in parens
            format!("treaty t \"T\" {{\n  parties A, B\n  category c {{ m: bool, x: int }}\n  quantity q = count(c where {} ({}))\n}}\n", "not ".repeat(55), vec!["m"; 127].join(" and "))
        } else {
            format!("treaty t \"T\" {{\n  parties A, B\n  quantity q = {}\n}}\n", vec!["q"; n].join(" + "))
        };
        match which.as_str() {
            "parse" => { let p = parse(&s); assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics); let _ = format!("{:?}", p.file).len(); }
            "check" => { let c = check_source(&s); assert!(c.diagnostics.iter().all(|d| d.code == "E0301" || d.code == "E0304"), "{:?}", c.diagnostics); let _ = format!("{:?}", c).len(); }
            _ => { let f = format_source(&s); assert!(f.is_ok()); }
        }
    }).unwrap().join().unwrap();
}
