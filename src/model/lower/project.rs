//! `[project]`: name, environment, regions (each once, primary first) and the
//! runbook base URL.

use super::*;

impl Lower {
    pub(super) fn project(&mut self, p: &spec::Project) -> Project {
        let regions: Vec<String> = p
            .regions
            .iter()
            .flatten()
            .map(|r| r.as_str().to_string())
            .collect();
        let mut seen = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            if let Some(j) = seen.insert(r.as_str(), i) {
                self.report(
                    Problem::new(Code::DuplicateName, format!("region `{r}` is listed twice"))
                        .with_label(Label::value(
                            format!("/project/regions/{i}"),
                            "listed again here",
                        ))
                        .with_label(Label::value(
                            format!("/project/regions/{j}"),
                            "first listed here",
                        ))
                        .with_help("list each region once, primary first"),
                );
            }
        }
        if let Some(url) = &p.runbook_url {
            self.base_url("/project/runbook_url", url.as_str(), "`/<alert name>.md`");
        }
        Project {
            name: p.name.as_str().to_string(),
            environment: p
                .environment
                .as_ref()
                .map_or("production", |e| e.as_str())
                .to_string(),
            regions,
            runbook_url: p
                .runbook_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_string()),
        }
    }
}
