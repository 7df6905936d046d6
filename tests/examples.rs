//! The example rule files: every `examples/rules/*.json` other than `schema.json` loads
//! and compiles against `examples/rules/schema.json`.

use std::path::{Path, PathBuf};

use crm_rules::{RuleSet, Schema};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("rules")
}

/// The JSON files of the folder other than `schema.json`, sorted by name.
fn rule_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "schema.json"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_example_rule_file_loads_and_compiles_against_the_example_schema() {
    let dir = rules_dir();
    let schema_path = dir.join("schema.json");
    let files = rule_files(&dir);
    if !schema_path.exists() {
        assert!(
            files.is_empty(),
            "{} has rule files but no schema.json",
            dir.display()
        );
        return;
    }
    let schema = Schema::from_json(&read(&schema_path))
        .unwrap_or_else(|e| panic!("{}: {e}", schema_path.display()));
    assert!(!schema.fields().is_empty());
    assert_eq!(Schema::from_json(&schema.to_json()).unwrap(), schema);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let rules = match RuleSet::from_json(&read(path)) {
            Ok(rules) => rules,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        match rules.compile(&schema) {
            Ok(compiled) => {
                assert_eq!(compiled.len(), rules.rules.len(), "{name}");
                assert!(!compiled.is_empty(), "{name} has no rules");
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        // Written back and read again, the file gives the same rules.
        assert_eq!(
            RuleSet::from_json(&rules.to_json().unwrap()).unwrap(),
            rules,
            "{name}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
