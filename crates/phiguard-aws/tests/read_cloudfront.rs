//! Live CloudFront reads against moto: viewer and origin protocol policies and the viewer
//! certificate's minimum TLS version, judged as a configuration item would be.

mod support;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    CacheBehavior, CacheBehaviors, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig,
    DistributionConfigWithTags, LoggingConfig, MinimumProtocolVersion, Origin, OriginProtocolPolicy, Origins,
    S3OriginConfig, SslSupportMethod, Tag, Tags, ViewerCertificate, ViewerProtocolPolicy,
};
use jiff::civil::date;
use phiguard_aws::read::cloudfront::{list_distributions, read_distribution};
use phiguard_aws::read::{LiveReader, ReadOutcome};
use phiguard_aws::{AwsSettings, sdk_config};
use phiguard_rules::model::{Model, Resource, ResourceType, StateSource};
use phiguard_rules::{Evaluation, Status, baseline, evaluate};
use support::Moto;

fn verdict(r: &Resource, rule: &str) -> (Status, String) {
    let Evaluation::Evaluated(f) = evaluate(&baseline(), r, date(2026, 11, 29)) else { panic!("{} in scope", r.id) };
    let finding = f.into_iter().find(|x| x.rule.id == rule).unwrap_or_else(|| panic!("{rule} judges {}", r.id));
    (finding.status, finding.reason.to_string())
}

fn found(outcome: ReadOutcome) -> Box<Resource> {
    match outcome {
        ReadOutcome::Found(r) => r,
        ReadOutcome::Gone => panic!("expected the distribution to exist"),
    }
}

/// The managed cache policy `CachingOptimized` (ForwardedValues and TTLs are deprecated).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

fn custom_origin(id: &str, policy: OriginProtocolPolicy) -> Origin {
    let custom =
        CustomOriginConfig::builder().http_port(80).https_port(443).origin_protocol_policy(policy).build().unwrap();
    Origin::builder().id(id).domain_name(format!("{id}.example.org")).custom_origin_config(custom).build().unwrap()
}

fn s3_origin(id: &str) -> Origin {
    Origin::builder()
        .id(id)
        .domain_name(format!("{id}.s3.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap()
}

/// A distribution whose default behaviour goes to the first origin and one ordered behaviour
/// (`/static/*`) to the last. `certificate`: an ACM certificate's minimum protocol, else the
/// default *.cloudfront.net certificate.
async fn distribution(
    cf: &Client,
    reference: &str,
    origins: Vec<Origin>,
    viewer: (ViewerProtocolPolicy, ViewerProtocolPolicy),
    certificate: Option<MinimumProtocolVersion>,
) -> (String, String) {
    let first = origins.first().unwrap().id.clone();
    let last = origins.last().unwrap().id.clone();
    let default = DefaultCacheBehavior::builder()
        .target_origin_id(first)
        .viewer_protocol_policy(viewer.0)
        .cache_policy_id(CACHING_OPTIMIZED)
        .build()
        .unwrap();
    let ordered = CacheBehavior::builder()
        .path_pattern("/static/*")
        .target_origin_id(last)
        .viewer_protocol_policy(viewer.1)
        .cache_policy_id(CACHING_OPTIMIZED)
        .build()
        .unwrap();
    let viewer_certificate = match certificate {
        Some(minimum) => ViewerCertificate::builder()
            .cloud_front_default_certificate(false)
            .acm_certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-portal")
            .ssl_support_method(SslSupportMethod::SniOnly)
            .minimum_protocol_version(minimum)
            .build(),
        None => ViewerCertificate::builder().cloud_front_default_certificate(true).build(),
    };
    let config = DistributionConfig::builder()
        .caller_reference(reference)
        .comment("")
        .enabled(true)
        .origins(Origins::builder().quantity(origins.len() as i32).set_items(Some(origins)).build().unwrap())
        .default_cache_behavior(default)
        .cache_behaviors(CacheBehaviors::builder().quantity(1).items(ordered).build().unwrap())
        .viewer_certificate(viewer_certificate)
        .logging(
            LoggingConfig::builder()
                .enabled(true)
                .include_cookies(false)
                .bucket("cf-logs.s3.amazonaws.com")
                .prefix(reference)
                .build(),
        )
        .build()
        .unwrap();
    let tags = Tags::builder().items(Tag::builder().key("data-classification").value("phi").build().unwrap()).build();
    let with_tags = DistributionConfigWithTags::builder().distribution_config(config).tags(tags).build();
    let d = cf.create_distribution_with_tags().distribution_config_with_tags(with_tags).send().await.unwrap();
    let d = d.distribution.unwrap();
    (d.id, d.arn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributions_are_judged_on_viewer_origin_and_certificate_settings() {
    let moto = Moto::start();
    let cf = moto.cloudfront().await;
    let reader = phiguard_aws::read::cloudfront::client(&sdk_config(&moto.settings()).await);
    let (portal, portal_arn) = distribution(
        &cf,
        "portal",
        vec![custom_origin("api", OriginProtocolPolicy::HttpsOnly), s3_origin("assets")],
        (ViewerProtocolPolicy::RedirectToHttps, ViewerProtocolPolicy::HttpsOnly),
        Some(MinimumProtocolVersion::TlSv122021),
    )
    .await;
    let (legacy, _) = distribution(
        &cf,
        "legacy",
        vec![
            custom_origin("intake", OriginProtocolPolicy::HttpOnly),
            custom_origin("images", OriginProtocolPolicy::MatchViewer),
        ],
        (ViewerProtocolPolicy::HttpsOnly, ViewerProtocolPolicy::AllowAll),
        None,
    )
    .await;
    let (assets, _) = distribution(
        &cf,
        "assets",
        vec![s3_origin("assets")],
        (ViewerProtocolPolicy::RedirectToHttps, ViewerProtocolPolicy::RedirectToHttps),
        Some(MinimumProtocolVersion::TlSv112016),
    )
    .await;

    let r = found(read_distribution(&reader, &portal).await.unwrap());
    assert_eq!(r.source, StateSource::LiveRead);
    assert_eq!((r.id.as_str(), r.arn.as_deref()), (portal.as_str(), Some(portal_arn.as_str())));
    assert_eq!((r.account.as_deref(), r.region.as_deref()), (Some("123456789012"), Some("us-east-1")));
    assert_eq!(r.tags, Some(vec![("data-classification".to_string(), "phi".to_string())]));
    let Model::CloudFrontDistribution(d) = &r.model else { panic!("distribution model") };
    assert_eq!(d.viewer_protocol_policies, Some(vec!["redirect-to-https".to_string(), "https-only".to_string()]));
    assert_eq!(d.origin_protocol_policies, Some(vec!["https-only".to_string()]), "the S3 origin has no policy");
    assert_eq!(d.minimum_protocol_version.as_deref(), Some("TLSv1.2_2021"));
    assert_eq!((d.uses_default_certificate, d.logging_enabled), (Some(false), Some(true)));
    for rule in ["cloudfront-viewer-https", "cloudfront-origin-https", "cloudfront-min-tls"] {
        assert_eq!(verdict(&r, rule).0, Status::Pass, "{rule}: {}", verdict(&r, rule).1);
    }

    let r = found(read_distribution(&reader, &legacy).await.unwrap());
    let Model::CloudFrontDistribution(d) = &r.model else { panic!("distribution model") };
    assert_eq!(d.viewer_protocol_policies, Some(vec!["https-only".to_string(), "allow-all".to_string()]));
    assert_eq!(d.origin_protocol_policies, Some(vec!["http-only".to_string(), "match-viewer".to_string()]));
    assert_eq!(d.uses_default_certificate, Some(true));
    let (status, reason) = verdict(&r, "cloudfront-viewer-https");
    assert_eq!(status, Status::Fail, "{reason}");
    let (status, reason) = verdict(&r, "cloudfront-origin-https");
    assert_eq!(status, Status::Fail, "http-only, and match-viewer behind allow-all: {reason}");
    assert!(reason.starts_with("2 custom origin(s)"), "{reason}");
    let (status, reason) = verdict(&r, "cloudfront-min-tls");
    assert_eq!(status, Status::Fail, "the default certificate accepts TLSv1: {reason}");

    let r = found(read_distribution(&reader, &assets).await.unwrap());
    assert_eq!(verdict(&r, "cloudfront-viewer-https").0, Status::Pass);
    assert_eq!(verdict(&r, "cloudfront-origin-https").0, Status::NotApplicable, "S3 origins only");
    assert_eq!(verdict(&r, "cloudfront-min-tls").0, Status::Fail, "TLSv1.1_2016");

    let listed = list_distributions(&reader).await.unwrap();
    let mut ids: Vec<&str> = listed.iter().map(|x| x.id.as_str()).collect();
    ids.sort();
    let mut want = [portal.as_str(), legacy.as_str(), assets.as_str()];
    want.sort();
    assert_eq!(ids, want);
    assert!(listed.iter().all(|x| x.resource_type == ResourceType::CloudFrontDistribution && x.arn.is_some()));

    cf.delete_distribution().id(&legacy).if_match("any").send().await.unwrap();
    assert!(matches!(read_distribution(&reader, &legacy).await.unwrap(), ReadOutcome::Gone));
    assert_eq!(list_distributions(&reader).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reader_lists_distributions_from_us_east_1_only() {
    let moto = Moto::start();
    let cf = moto.cloudfront().await;
    let (id, _) = distribution(
        &cf,
        "portal",
        vec![custom_origin("api", OriginProtocolPolicy::HttpsOnly)],
        (ViewerProtocolPolicy::RedirectToHttps, ViewerProtocolPolicy::RedirectToHttps),
        Some(MinimumProtocolVersion::TlSv122021),
    )
    .await;
    assert!(LiveReader::readable_types().contains(&ResourceType::CloudFrontDistribution));

    let east = LiveReader::new(&sdk_config(&moto.settings()).await, &moto.settings());
    let refs = east.list(&ResourceType::CloudFrontDistribution).await.expect("enumerable").unwrap();
    assert_eq!(refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let r = found(east.read(&refs[0]).await.expect("a reader").unwrap());
    assert_eq!(r.id, id);

    // Another region's reader reads distributions (the client is pinned to us-east-1) but does
    // not enumerate them again.
    let settings = AwsSettings { region: Some("eu-west-1".into()), ..moto.settings() };
    let west = LiveReader::new(&sdk_config(&settings).await, &settings);
    assert!(west.list(&ResourceType::CloudFrontDistribution).await.unwrap().unwrap().is_empty());
    let r = found(west.read(&refs[0]).await.unwrap().unwrap());
    assert_eq!(r.region.as_deref(), Some("us-east-1"));

    cf.delete_distribution().id(&id).if_match("any").send().await.unwrap();
    assert!(matches!(east.read(&refs[0]).await.unwrap().unwrap(), ReadOutcome::Gone));
}
