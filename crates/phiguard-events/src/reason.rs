//! The fixed phrases of [`Change::Ignored`](crate::Change::Ignored) `reason`s. Stable: they
//! are metric labels.

/// A CloudTrail record with an `errorCode`: the call changed nothing.
pub const API_CALL_FAILED: &str = "api-call-failed";
/// A read-only, data-plane or sign-in event.
pub const NOT_A_CONFIGURATION_CHANGE: &str = "not-a-configuration-change";
/// A CloudTrail event (or event source) no model covers.
pub const UNMAPPED_EVENT: &str = "unmapped-event";
/// A mapped CloudTrail event that does not say which resource it changed.
pub const RESOURCE_NOT_IDENTIFIED: &str = "resource-not-identified";
/// An AWS Config notification that is not about a configuration item (snapshot or history
/// delivery, compliance change, scheduled notification...).
pub const NOT_A_CONFIGURATION_ITEM: &str = "not-a-configuration-item-change";
/// An EventBridge event whose `detail-type` PhiGuard does not consume.
pub const EVENTBRIDGE_DETAIL_TYPE: &str = "eventbridge-detail-type-not-consumed";
/// An SNS subscription or unsubscription confirmation.
pub const SNS_SUBSCRIPTION_MESSAGE: &str = "sns-subscription-message";
/// One item of a multi-item message (a log file record, an element of a configuration item
/// list) that cannot be read; the others are still decoded. `detail` says what is wrong.
pub const MALFORMED_ITEM: &str = "malformed-item";
