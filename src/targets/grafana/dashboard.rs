//! The dashboard JSON as typed values: the fields `@grafana/schema`'s
//! `Dashboard` type declares, serialized in a fixed order. Panel `options`
//! and `fieldConfig.defaults.custom` are plugin-specific and built with
//! `serde_json::json!` (sorted keys).

use serde::Serialize;
use serde_json::Value;

use super::{BuildError, DATASOURCE_UID, SCHEMA_VERSION};
use crate::engine::Query;
use crate::units::Decimal;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub editable: bool,
    /// 1: a shared crosshair across panels.
    pub graph_tooltip: u8,
    pub time: TimeRange,
    pub refresh: &'static str,
    pub timezone: &'static str,
    pub schema_version: u32,
    pub version: u32,
    pub links: Vec<Link>,
    pub templating: Templating,
    pub panels: Vec<Panel>,
}

impl Dashboard {
    pub fn new(uid: String, title: String, tags: Vec<String>) -> Self {
        Dashboard {
            uid,
            title,
            description: crate::engine::HEADER.to_string(),
            tags,
            editable: false,
            graph_tooltip: 1,
            time: TimeRange {
                from: "now-6h",
                to: "now",
            },
            refresh: "1m",
            timezone: "browser",
            schema_version: SCHEMA_VERSION,
            version: 1,
            links: Vec::new(),
            templating: Templating { list: Vec::new() },
            panels: Vec::new(),
        }
    }

    /// Every query (panel targets and variable selectors), named for an
    /// error; the checker parses them (`Emitter::add_with`).
    pub fn queries(&self) -> Vec<Query> {
        let panels = self.panels.iter().flat_map(|panel| {
            panel.targets.iter().map(move |target| Query {
                what: format!(
                    "panel {} `{}`, query {}",
                    panel.id, panel.title, target.ref_id
                ),
                expr: target.expr.clone(),
            })
        });
        let variables = self.templating.list.iter().map(|variable| Query {
            what: format!("variable `{}`", variable.name),
            expr: variable.selector.clone(),
        });
        panels.chain(variables).collect()
    }
}

#[derive(Serialize)]
pub struct TimeRange {
    pub from: &'static str,
    pub to: &'static str,
}

/// A dashboard or panel link (Grafana's `DashboardLink`, all fields).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub title: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub url: String,
    pub tags: Vec<String>,
    pub as_dropdown: bool,
    pub icon: &'static str,
    pub include_vars: bool,
    pub keep_time: bool,
    pub target_blank: bool,
    pub tooltip: String,
}

impl Link {
    /// A link to another dashboard by uid, keeping the time range.
    pub fn to_dashboard(title: String, uid: &str) -> Self {
        Link {
            title,
            type_: "link",
            url: format!("/d/{uid}"),
            tags: Vec::new(),
            as_dropdown: false,
            icon: "dashboard",
            include_vars: false,
            keep_time: true,
            target_blank: false,
            tooltip: String::new(),
        }
    }

    /// A dropdown of every dashboard with `tag`.
    pub fn tagged(title: &str, tag: &str) -> Self {
        Link {
            title: title.to_string(),
            type_: "dashboards",
            url: String::new(),
            tags: vec![tag.to_string()],
            as_dropdown: true,
            icon: "external link",
            include_vars: false,
            keep_time: true,
            target_blank: false,
            tooltip: String::new(),
        }
    }
}

#[derive(Serialize)]
pub struct Templating {
    pub list: Vec<Variable>,
}

/// A query variable over one label of a selector, multi-valued with "All"
/// matching everything (also series without the label).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub datasource: DatasourceRef,
    pub query: String,
    /// 2: refresh the values when the time range changes.
    pub refresh: u8,
    pub include_all: bool,
    pub all_value: &'static str,
    pub multi: bool,
    /// 1: alphabetical.
    pub sort: u8,
    pub hide: u8,
    pub current: Value,
    pub options: Vec<Value>,
    /// The selector the values come from; parsed, not written.
    #[serde(skip)]
    pub selector: String,
}

impl Variable {
    pub fn label_values(name: &str, label: &str, selector: String) -> Self {
        let query = format!("label_values({selector}, {name})");
        Variable {
            name: name.to_string(),
            label: label.to_string(),
            type_: "query",
            datasource: DatasourceRef::prometheus(),
            query,
            refresh: 2,
            include_all: true,
            all_value: ".*",
            multi: true,
            sort: 1,
            hide: 0,
            current: serde_json::json!({ "text": "All", "value": "$__all" }),
            options: Vec::new(),
            selector,
        }
    }
}

#[derive(Serialize, Clone)]
pub struct DatasourceRef {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub uid: &'static str,
}

impl DatasourceRef {
    pub fn prometheus() -> Self {
        DatasourceRef {
            type_: "prometheus",
            uid: DATASOURCE_UID,
        }
    }
}

#[derive(Serialize, Clone, Copy)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

/// A panel, or a row when `type_` is `row` (then `collapsed` and `panels`
/// are set and the rest is empty).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub id: u32,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub grid_pos: GridPos,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DatasourceRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_config: Option<FieldConfigSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
    /// What Grafana does to the query results before drawing them (a
    /// table's merge of its queries into rows).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collapsed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panels: Option<Vec<Panel>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub datasource: DatasourceRef,
    pub ref_id: String,
    pub expr: String,
    pub legend_format: String,
    pub range: bool,
    pub instant: bool,
    pub format: &'static str,
}

impl Target {
    pub fn new(expr: String, legend: &str) -> Self {
        Target {
            datasource: DatasourceRef::prometheus(),
            ref_id: String::new(),
            expr,
            legend_format: legend.to_string(),
            range: true,
            instant: false,
            format: "time_series",
        }
    }

    /// The latest value only, for stats, gauges and tables.
    pub fn instant(mut self) -> Self {
        self.range = false;
        self.instant = true;
        self
    }

    /// The latest value of each series as a table row (its labels as
    /// columns), for a table panel.
    pub fn table(mut self) -> Self {
        self.format = "table";
        self.instant()
    }
}

#[derive(Serialize)]
pub struct FieldConfigSource {
    pub defaults: FieldConfig,
    pub overrides: Vec<Value>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FieldConfig {
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Number>,
    pub color: Value,
    pub thresholds: Thresholds,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

#[derive(Serialize, Default)]
pub struct Thresholds {
    pub mode: &'static str,
    pub steps: Vec<Step>,
}

impl Thresholds {
    /// Absolute thresholds: `base` colour below the first step, then each
    /// `(value, colour)` from that value up. Steps must ascend.
    pub fn new(base: &str, steps: &[(Decimal, &str)]) -> Result<Self, BuildError> {
        let mut out = vec![Step {
            color: base.to_string(),
            value: None,
        }];
        for (value, color) in steps {
            out.push(Step {
                color: (*color).to_string(),
                value: Some(number(*value)?),
            });
        }
        Ok(Thresholds {
            mode: "absolute",
            steps: out,
        })
    }
}

#[derive(Serialize)]
pub struct Step {
    pub color: String,
    /// `null` is minus infinity: the base step.
    pub value: Option<serde_json::Number>,
}

/// An exact decimal as a JSON number. JSON numbers are read as doubles, so
/// a value a double cannot carry exactly as written is an error rather than
/// a silently different threshold.
pub fn number(value: Decimal) -> Result<serde_json::Number, BuildError> {
    // Integers stay integers: `6`, not the `6.0` a double would print.
    if let Some(n) = value.to_u64() {
        return Ok(n.into());
    }
    let text = value.to_string();
    let parsed: f64 = text
        .parse()
        .map_err(|_| BuildError::number(format!("{text} is not a number")))?;
    match serde_json::Number::from_f64(parsed) {
        Some(n) if format!("{parsed}") == text => Ok(n),
        _ => Err(BuildError::number(format!(
            "{text} has more digits than a JSON number keeps"
        ))),
    }
}

/// Places panels on Grafana's 24-column grid: rows stacked top to bottom,
/// panels left to right within a row, wrapping to a new line; ids count up
/// from 1 in that order. Same input, same ids and positions.
pub struct Layout {
    panels: Vec<Panel>,
    next_id: u32,
    x: u32,
    y: u32,
    line_height: u32,
}

pub const COLUMNS: u32 = 24;

impl Layout {
    pub fn new() -> Self {
        Layout {
            panels: Vec::new(),
            next_id: 1,
            x: 0,
            y: 0,
            line_height: 0,
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn new_line(&mut self) {
        if self.x > 0 {
            self.y += self.line_height;
        }
        self.x = 0;
        self.line_height = 0;
    }

    /// An expanded row header across the full width.
    pub fn row(&mut self, title: &str) {
        self.new_line();
        let id = self.id();
        self.panels.push(Panel {
            id,
            type_: "row",
            title: title.to_string(),
            description: None,
            grid_pos: GridPos {
                h: 1,
                w: COLUMNS,
                x: 0,
                y: self.y,
            },
            datasource: None,
            targets: Vec::new(),
            field_config: None,
            options: None,
            transformations: Vec::new(),
            links: Vec::new(),
            collapsed: Some(false),
            panels: Some(Vec::new()),
        });
        self.y += 1;
    }

    /// Adds a panel `w` columns wide and `h` high; the refIds of its targets
    /// become A, B, C….
    pub fn add(&mut self, w: u32, h: u32, mut panel: PanelSpec) {
        if self.x + w > COLUMNS {
            self.new_line();
        }
        for (i, target) in panel.targets.iter_mut().enumerate() {
            target.ref_id = ref_id(i);
        }
        let id = self.id();
        self.panels.push(Panel {
            id,
            type_: panel.type_,
            title: panel.title,
            description: panel.description,
            grid_pos: GridPos {
                h,
                w,
                x: self.x,
                y: self.y,
            },
            datasource: Some(DatasourceRef::prometheus()),
            targets: panel.targets,
            field_config: Some(FieldConfigSource {
                defaults: panel.field,
                overrides: panel.overrides,
            }),
            options: Some(panel.options),
            transformations: panel.transformations,
            links: panel.links,
            collapsed: None,
            panels: None,
        });
        self.x += w;
        self.line_height = self.line_height.max(h);
    }

    pub fn finish(self) -> Vec<Panel> {
        self.panels
    }
}

/// The refId of a panel's `i`th query (from 0): A, B, … Z, AA, AB….
pub fn ref_id(i: usize) -> String {
    // A..Z, then AA, AB…: more than 26 queries on one panel is unlikely.
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let first = letters[i % 26] as char;
    match i / 26 {
        0 => first.to_string(),
        n => format!("{}{first}", letters[(n - 1) % 26] as char),
    }
}

/// What a panel is before the layout places it.
pub struct PanelSpec {
    pub type_: &'static str,
    pub title: String,
    pub description: Option<String>,
    pub targets: Vec<Target>,
    pub field: FieldConfig,
    /// Field settings by field (`matcher` and `properties`).
    pub overrides: Vec<Value>,
    pub options: Value,
    pub transformations: Vec<Value>,
    pub links: Vec<Link>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(expr: &str) -> PanelSpec {
        PanelSpec {
            type_: "timeseries",
            title: "Broken".into(),
            description: None,
            targets: vec![Target::new(expr.into(), "")],
            field: FieldConfig::default(),
            overrides: Vec::new(),
            options: Value::Null,
            transformations: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn every_query_is_named_by_its_panel() {
        let mut board = Dashboard::new("u".into(), "t".into(), Vec::new());
        let mut layout = Layout::new();
        layout.row("Row");
        layout.add(12, 8, panel("up{job=\"api\"}"));
        layout.add(12, 8, panel("sum(rate(up[5m])"));
        board.panels = layout.finish();
        let queries = board.queries();
        let named: Vec<(&str, &str)> = queries
            .iter()
            .map(|q| (q.what.as_str(), q.expr.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("panel 2 `Broken`, query A", "up{job=\"api\"}"),
                ("panel 3 `Broken`, query A", "sum(rate(up[5m])")
            ]
        );
    }

    #[test]
    fn panels_flow_left_to_right_and_wrap() {
        let mut layout = Layout::new();
        layout.row("One");
        layout.add(16, 8, panel("up"));
        layout.add(16, 6, panel("up"));
        layout.row("Two");
        layout.add(24, 4, panel("up"));
        let pos: Vec<(u32, u32, u32, u32, u32)> = layout
            .finish()
            .iter()
            .map(|p| (p.id, p.grid_pos.x, p.grid_pos.y, p.grid_pos.w, p.grid_pos.h))
            .collect();
        assert_eq!(
            pos,
            [
                (1, 0, 0, 24, 1),
                (2, 0, 1, 16, 8),
                (3, 0, 9, 16, 6),
                (4, 0, 15, 24, 1),
                (5, 0, 16, 24, 4)
            ]
        );
    }

    #[test]
    fn numbers_are_exact_or_refused() {
        let n = |s: &str| number(Decimal::parse(s).expect("decimal")).map(|n| n.to_string());
        assert_eq!(n("6").ok(), Some("6".into()));
        assert_eq!(n("0.999").ok(), Some("0.999".into()));
        assert_eq!(n("14.4").ok(), Some("14.4".into()));
        assert!(n("0.123456789012345678").is_err());
    }
}
