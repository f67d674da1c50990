//! Compiles the templates in: every `templates/**/*.j2` becomes an entry of
//! `BUILTIN` (name relative to `templates/`, text), so a template is loaded
//! by its name and adding one is adding its file. `templates/init/` is the
//! starter spec, not a template.

use std::path::{Path, PathBuf};

fn main() {
    // At run time, not `env!`: a build script compiled for one checkout must
    // read the templates of the checkout it builds.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("templates");
    println!("cargo:rerun-if-changed=templates");
    let mut names = Vec::new();
    collect(&root, &root, &mut names);
    names.sort();
    let mut code = String::from("/// Every template harden uses, by name, as compiled in.\n");
    code.push_str("pub(super) const BUILTIN: &[(&str, &str)] = &[\n");
    for name in &names {
        code.push_str(&format!(
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/templates/\", {name:?}))),\n"
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("templates.rs"), code).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, names: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("templates/ is readable")
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let relative = path
            .strip_prefix(root)
            .expect("under templates/")
            .to_string_lossy()
            .replace('\\', "/");
        if path.is_dir() {
            if relative != "init" {
                collect(root, &path, names);
            }
        } else if relative.ends_with(".j2") {
            names.push(relative);
        }
    }
}
