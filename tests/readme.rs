//! The README explains the program from a clone alone: how it works, where each part lives, and no
//! pointer to files outside the repository; `src/lib.rs` keeps the module map.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every module of the crate: `pub mod NAME;` in `src/lib.rs`.
fn modules() -> Vec<String> {
    read("src/lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

#[test]
fn the_readme_points_to_nothing_outside_the_clone() {
    let readme = read("README.md");
    for outside in ["DESIGN.md", "../shared"] {
        assert!(!readme.contains(outside), "README.md mentions {outside}");
    }
}

#[test]
fn the_readme_says_how_it_works_and_where_each_module_lives() {
    let readme = read("README.md");
    let start = readme
        .find("## How it works")
        .expect("a 'How it works' section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let modules = modules();
    assert!(modules.len() >= 8, "{modules:?}");
    for m in &modules {
        let dir = format!("src/{m}/");
        let file = format!("src/{m}.rs");
        assert!(
            section.contains(&dir) || section.contains(&file),
            "'How it works' does not say where `{m}` lives"
        );
    }
    for step in ["SQLite", "update", "sync", "pending"] {
        assert!(section.contains(step), "the data flow leaves out {step}");
    }
}

#[test]
fn lib_rs_keeps_the_module_map_and_its_rules() {
    let lib = read("src/lib.rs");
    let doc: String = lib
        .lines()
        .filter(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!doc.contains("DESIGN.md"), "the rules are written out here");
    for m in modules() {
        assert!(
            doc.contains(&format!("[`{m}`]")),
            "the map leaves out `{m}`"
        );
    }
    assert!(doc.contains("imports nothing of ours"), "{doc}");
}
