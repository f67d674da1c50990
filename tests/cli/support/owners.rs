//! Which target owns which generated file, decided by path prefix and
//! defined here once, and the per-target snapshots of the examples.

use super::{Tree, examples, snapshot_settings};

/// An owner of generated files: an output target, or the output set itself
/// (its manifest).
pub struct Owner {
    pub name: &'static str,
    /// A file is the owner's when its path starts with one of these (a
    /// whole path names one file).
    pub prefixes: &'static [&'static str],
}

/// Every owner, each generated file belonging to exactly one of them.
pub const OWNERS: &[Owner] = &[
    Owner {
        name: "prometheus",
        prefixes: &["prometheus/prometheus.yml"],
    },
    Owner {
        name: "alerting",
        prefixes: &[
            "prometheus/rules/",
            "prometheus/global/",
            "prometheus/tests/",
            "runbooks/",
            "OPERATIONS.md",
        ],
    },
    Owner {
        name: "alertmanager",
        prefixes: &["alertmanager/"],
    },
    Owner {
        name: "grafana",
        prefixes: &["grafana/"],
    },
    Owner {
        name: "kubernetes",
        prefixes: &["k8s/", "k8s-regions/", "k8s-monitoring/"],
    },
    Owner {
        name: "compose",
        prefixes: &["docker-compose.yml", "otlp-gateway/"],
    },
    Owner {
        name: "digitalocean",
        prefixes: &[".do/"],
    },
    Owner {
        name: "dns",
        prefixes: &["dns/"],
    },
    Owner {
        name: "loadtest",
        prefixes: &["testing/load-tests/"],
    },
    Owner {
        name: "scripts",
        prefixes: &["scripts/", "backup/"],
    },
    Owner {
        name: "ci",
        prefixes: &[".github/"],
    },
    Owner {
        name: "manifest",
        prefixes: &[".harden-manifest.json"],
    },
];

/// The owners of `path`: exactly one for every generated file.
pub fn owners_of(path: &str) -> Vec<&'static str> {
    OWNERS
        .iter()
        .filter(|o| o.prefixes.iter().any(|p| path.starts_with(p)))
        .map(|o| o.name)
        .collect()
}

fn owner(name: &str) -> &'static Owner {
    OWNERS
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no owner named {name}"))
}

/// Whether `path` belongs to the owner `name`.
pub fn owned_by(path: &str, name: &str) -> bool {
    owner(name).prefixes.iter().any(|p| path.starts_with(p))
}

impl Tree {
    /// Whether the tree has a file of the target `name`.
    pub fn generates(&self, name: &str) -> bool {
        self.files().iter().any(|p| owned_by(p, name))
    }

    /// The files of the owner `name` as one text: a `==== path ====`
    /// header per file, so added and removed files show in a snapshot. A
    /// file that is a byte-for-byte copy of another owner's under a prefix
    /// (Kubernetes copies `prometheus/rules/api.yml` to
    /// `k8s/prometheus/rules/api.yml`) names its source instead: the
    /// source's own snapshot holds the text.
    pub fn snapshot_of(&self, name: &str) -> String {
        let tree = self.read_all();
        tree.iter()
            .filter(|(path, _)| owned_by(path, name))
            .map(|(path, bytes)| {
                let source = tree.iter().find(|(other, b)| {
                    b == bytes && !owned_by(other, name) && path.ends_with(&format!("/{other}"))
                });
                match source {
                    Some((from, _)) => format!("==== {path} ====\n(a copy of {from})\n"),
                    None => format!("==== {path} ====\n{}", String::from_utf8_lossy(bytes)),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Each example's files of the owner `name` match the snapshot
/// `example-<example>-<name>`.
#[track_caller]
pub fn assert_example_snapshots(name: &str) {
    for tree in examples() {
        let example = std::path::Path::new(tree.name())
            .parent()
            .and_then(|p| p.file_name())
            .expect("examples/<name>/hardening.toml")
            .to_string_lossy()
            .into_owned();
        let text = tree.snapshot_of(name);
        assert!(!text.is_empty(), "{example} has no {name} files");
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("example-{example}-{name}"), text);
        });
    }
}
