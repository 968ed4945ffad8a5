//! AWS::RDS::DBParameterGroup, AWS::RDS::DBClusterParameterGroup and
//! AWS::Redshift::ClusterParameterGroup: the family and the full parameter listing.

use phiguard_rules::model::{Model, ParameterGroup, Resource};
use serde_json::Value;

use crate::config_item::CiView;
use crate::lenient::{any_of, get, get_embedded, list, stringify, text_at};

const FAMILY_KEYS: &[&str] =
    &["dBParameterGroupFamily", "dBClusterParameterGroupFamily", "parameterGroupFamily", "family"];

pub(crate) fn fill(resource: &mut Resource, ci: &CiView<'_>) {
    let config = ci.config();
    let listing = ci.supplementary("Parameters").or_else(|| config.and_then(|c| get_embedded(c, "parameters")));
    if config.is_none() && listing.is_none() {
        return;
    }
    resource.model = Model::ParameterGroup(ParameterGroup {
        family: config.and_then(|c| any_of(c, FAMILY_KEYS)).and_then(Value::as_str).map(str::to_string),
        // Without a listing the item says nothing about the parameters.
        complete: listing.is_some(),
        parameters: listing.map(|l| parameters_from(&l)).unwrap_or_default(),
    });
}

/// `[{parameterName, parameterValue}]`. Values may be strings, numbers, booleans or even
/// arrays (Redshift `wlm_json_configuration`): all become text. A parameter without a value is
/// at its engine default and is left out.
pub(crate) fn parameters_from(v: &Value) -> Vec<(String, String)> {
    list(v)
        .into_iter()
        .filter_map(|p| {
            let name = text_at(p, "parameterName")?;
            let value = get(p, "parameterValue").and_then(stringify)?;
            Some((name, value))
        })
        .collect()
}
