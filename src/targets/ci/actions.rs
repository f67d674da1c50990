//! Every GitHub Action harden uses, pinned by full commit SHA: the generated
//! workflow's and harden's own (`.github/workflows/release.yml`). This table
//! is their one definition: the workflow is rendered from it, and a test
//! (`tests/cli/adoption.rs`) holds every `uses:` of the repository's
//! workflows and `action.yml` to it, the tag in the line's comment.
//!
//! Tags move (trivy-action's were force-pushed to malicious commits in March
//! 2026); a SHA does not. Each SHA is the tag's commit as public workflows
//! pin it; change a row's SHA and tag together, then every `uses:` the test
//! names.

use serde::Serialize;

/// An action pinned by full commit SHA, with the tag that SHA was.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct Pinned {
    /// The name the workflow template reads it by (`actions.checkout`).
    #[serde(skip)]
    pub name: &'static str,
    /// `owner/repository@<40 hex digits>`.
    pub uses: &'static str,
    pub tag: &'static str,
}

/// The pinned actions, by name.
pub const ACTIONS: &[Pinned] = &[
    Pinned {
        name: "checkout",
        uses: "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8",
        tag: "v5.0.0",
    },
    // v1.2.1, as chainguard-actions' mirror of the action records it
    // (source.json) and other workflows pin it; v1.1.0's SHA had one
    // public source.
    Pinned {
        name: "setup_k6",
        uses: "grafana/setup-k6-action@db07bd9765aac508ef18982e52ab937fe633a065",
        tag: "v1.2.1",
    },
    // 0.35.0: the first release after the March 2026 compromise, with
    // immutable tags.
    Pinned {
        name: "trivy",
        uses: "aquasecurity/trivy-action@57a97c7e7821a5776cebc9bb87c984fa69cba8f1",
        tag: "v0.35.0",
    },
    Pinned {
        name: "cache",
        uses: "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830",
        tag: "v4.3.0",
    },
    Pinned {
        name: "upload_artifact",
        uses: "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02",
        tag: "v4.6.2",
    },
    // Only harden's own release workflow.
    Pinned {
        name: "download_artifact",
        uses: "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093",
        tag: "v4.3.0",
    },
];

/// The table by name, as the workflow template reads it.
pub fn by_name() -> std::collections::BTreeMap<&'static str, Pinned> {
    ACTIONS.iter().map(|a| (a.name, *a)).collect()
}
