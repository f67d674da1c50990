//! `harden schema` and `harden init`.

use std::fs;

use crate::support::*;

/// The committed schema is what `harden schema` prints; regenerate it with
/// `cargo run -- schema > schema/hardening.schema.json`.
#[test]
fn committed_schema_is_current() {
    let run = harden(&["schema"]).success();
    let committed =
        fs::read_to_string(root().join("schema/hardening.schema.json")).expect("committed schema");
    assert!(
        committed == run.stdout,
        "schema/hardening.schema.json is stale: run `cargo run -- schema > schema/hardening.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
}

#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    harden_in(dir.path(), &["init"]).success();
    let starter = fs::read_to_string(dir.path().join("hardening.toml")).expect("starter");
    assert!(
        starter.starts_with("#:schema hardening.schema.json\n"),
        "{starter}"
    );
    let schema = fs::read_to_string(dir.path().join("hardening.schema.json")).expect("schema");
    assert_eq!(schema, harden(&["schema"]).success().stdout);
    harden_in(dir.path(), &["validate"]).success();

    fs::write(dir.path().join("hardening.toml"), "# mine\n").expect("write");
    let run = harden_in(dir.path(), &["init"]).code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("hardening.toml")).expect("read"),
        "# mine\n"
    );
}

#[test]
fn init_takes_a_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    harden_in(dir.path(), &["init", "svc/hardening.toml"]).success();
    assert!(dir.path().join("svc/hardening.toml").is_file());
    assert!(dir.path().join("svc/hardening.schema.json").is_file());
}
