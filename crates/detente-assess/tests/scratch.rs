#[test]
fn scratch() {
    let text = std::fs::read_to_string("/tmp/scratch_cases.txt").unwrap();
    for line in text.lines() {
        let (_, errors) = detente_assess::facts::load_str("f.jsonl", line);
        println!("{line}");
        for e in errors {
            println!("  => {e}\n     field {:?} help {:?} kind {:?}", e.field, e.help, e.kind);
        }
    }
}
