//! sagemaker.amazonaws.com: notebook instances. Their KMS key and direct internet access are
//! set at creation and cannot be updated; SageMaker's other resources stay out of the model.

use phiguard_rules::model::{Model, ResourceType as T, SageMakerNotebook};

use super::{Event, Mapped, other_event, partial};
use crate::adapters::sagemaker as adapter;

const SOURCE: &str = "sagemaker.amazonaws.com";

pub(super) fn map(ev: &Event<'_>) -> Mapped {
    if !matches!(ev.name, "CreateNotebookInstance" | "UpdateNotebookInstance" | "DeleteNotebookInstance") {
        return other_event(ev, SOURCE);
    }
    let Some(name) = ev.req_str("notebookInstanceName") else {
        return Some(vec![ev.not_identified("no `notebookInstanceName`")]);
    };
    // SageMaker ARNs carry the name in lower case.
    let notebook_arn = ev
        .resp_str("notebookInstanceArn")
        .map(str::to_string)
        .or_else(|| ev.arn("sagemaker", &format!("notebook-instance/{}", name.to_ascii_lowercase())));
    let (res, m) = match ev.name {
        "DeleteNotebookInstance" => return Some(vec![ev.deleted(T::SageMakerNotebookInstance, name, notebook_arn)]),
        "CreateNotebookInstance" => {
            let mut res = ev.created(T::SageMakerNotebookInstance, name, notebook_arn);
            let mut m = adapter::notebook_from(ev.request, true, &mut res.assumptions);
            if m.direct_internet_access.is_none() {
                res.assumptions.push(
                    "notebook instance created without DirectInternetAccess: SageMaker's default is Enabled"
                        .to_string(),
                );
                m.direct_internet_access = Some(true);
            }
            (res, m)
        }
        // An update cannot change the key or the internet access: both stay unknown.
        _ => (ev.resource(T::SageMakerNotebookInstance, name, notebook_arn), SageMakerNotebook::default()),
    };
    Some(vec![partial(res, Model::SageMakerNotebook(m))])
}
