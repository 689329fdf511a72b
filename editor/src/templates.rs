//! Starting points for the common Istio traffic tasks, as YAML loaded through the
//! model like anything the user types. Each template can bring Kubernetes stubs
//! (a Service and one Deployment per version) for the hosts it routes to, so the
//! analyzers find the services and pods they look for (as `istioctl analyze`
//! would in a cluster that runs them).

/// A Kubernetes Service (and its versions' Deployments) a template routes to.
#[derive(Debug, Clone, Copy)]
pub struct Stub {
    pub service: &'static str,
    pub port: u32,
    /// `version` label of each Deployment; empty: one Deployment without a version.
    pub versions: &'static [&'static str],
}

#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Stable id (`data-testid` suffix).
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Istio resources, a multi-document YAML stream.
    pub yaml: &'static str,
    pub stubs: &'static [Stub],
}

impl Template {
    /// The template as YAML: the Istio resources, then the stubs if asked for.
    pub fn text(&self, with_stubs: bool) -> String {
        let mut out = self.yaml.trim_end().to_owned();
        out.push('\n');
        if with_stubs {
            for s in self.stubs {
                out.push_str(&stub_yaml(s));
            }
        }
        out
    }
}

/// A Service and its Deployments, in the `default` namespace.
pub fn stub_yaml(s: &Stub) -> String {
    let Stub {
        service,
        port,
        versions,
    } = *s;
    let mut out = format!(
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {service}\n  namespace: default\n  labels:\n    app: {service}\nspec:\n  selector:\n    app: {service}\n  ports:\n  - name: http\n    port: {port}\n"
    );
    let deployment = |name: &str, version: Option<&str>| {
        let labels = |indent: &str| {
            let mut l = format!("{indent}app: {service}\n");
            if let Some(v) = version {
                l.push_str(&format!("{indent}version: {v}\n"));
            }
            l
        };
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  selector:\n    matchLabels:\n{}  template:\n    metadata:\n      labels:\n{}    spec:\n      containers:\n      - name: {service}\n        image: registry.example/{service}:{}\n        ports:\n        - containerPort: {port}\n",
            labels("      "),
            labels("        "),
            version.unwrap_or("latest"),
        )
    };
    if versions.is_empty() {
        out.push_str(&deployment(service, None));
    } else {
        for v in versions {
            out.push_str(&deployment(&format!("{service}-{v}"), Some(v)));
        }
    }
    out
}

const REVIEWS: Stub = Stub {
    service: "reviews",
    port: 9080,
    versions: &["v1", "v2", "v3"],
};
const RATINGS: Stub = Stub {
    service: "ratings",
    port: 9080,
    versions: &["v1"],
};
const HTTPBIN: Stub = Stub {
    service: "httpbin",
    port: 8000,
    versions: &["v1", "v2"],
};
const PRODUCTPAGE: Stub = Stub {
    service: "productpage",
    port: 9080,
    versions: &["v1"],
};

pub const ALL: &[Template] = &[
    Template {
        id: "header-routing",
        title: "Header-based routing (end-user: jason)",
        description: "Requests from the user jason go to reviews v2, everyone else to v1 (Istio's request-routing task).",
        yaml: concat!(
            "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
  - reviews
  http:
  - name: jason
    match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - name: everyone-else
    route:
    - destination:
        host: reviews
        subset: v1
",
            "---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
"
        ),
        stubs: &[REVIEWS],
    },
    Template {
        id: "path-routing",
        title: "Path-based routing",
        description: "/api/ goes to the api service (prefix rewritten to /), everything else to web.",
        yaml: "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
  namespace: default
spec:
  hosts:
  - web
  http:
  - name: api
    match:
    - uri:
        prefix: /api/
    rewrite:
      uri: /
    route:
    - destination:
        host: api
        port:
          number: 8080
  - name: static
    match:
    - uri:
        prefix: /static/
    - uri:
        exact: /favicon.ico
    route:
    - destination:
        host: web
  - name: default
    route:
    - destination:
        host: web
",
        stubs: &[
            Stub {
                service: "web",
                port: 80,
                versions: &[],
            },
            Stub {
                service: "api",
                port: 8080,
                versions: &[],
            },
        ],
    },
    Template {
        id: "canary",
        title: "Canary 90/10",
        description: "90% of the traffic to reviews v1, 10% to the canary v2.",
        yaml: concat!(
            "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
  - reviews
  http:
  - name: canary
    route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v2
      weight: 10
",
            "---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
"
        ),
        stubs: &[REVIEWS],
    },
    Template {
        id: "blue-green",
        title: "Blue-green",
        description: "All traffic to blue; testers preview green with the header x-env: green. Switch by changing the default subset.",
        yaml: "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: checkout
  namespace: default
spec:
  hosts:
  - checkout
  http:
  - name: preview-green
    match:
    - headers:
        x-env:
          exact: green
    route:
    - destination:
        host: checkout
        subset: green
  - name: live
    route:
    - destination:
        host: checkout
        subset: blue
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: checkout
  namespace: default
spec:
  host: checkout
  subsets:
  - name: blue
    labels:
      version: blue
  - name: green
    labels:
      version: green
",
        stubs: &[Stub {
            service: "checkout",
            port: 8080,
            versions: &["blue", "green"],
        }],
    },
    Template {
        id: "fault-test-header",
        title: "Fault injection for a test user",
        description: "A 7s delay on ratings for the user jason only (Istio's fault-injection task); everyone else is untouched.",
        yaml: "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: default
spec:
  hosts:
  - ratings
  http:
  - name: jason-delay
    match:
    - headers:
        end-user:
          exact: jason
    fault:
      delay:
        fixedDelay: 7s
        percentage:
          value: 100
    route:
    - destination:
        host: ratings
        subset: v1
  - name: default
    route:
    - destination:
        host: ratings
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
  namespace: default
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
",
        stubs: &[RATINGS],
    },
    Template {
        id: "chaos",
        title: "Delay + abort chaos",
        description: "Requests tagged x-chaos: enabled get a 2s delay 10% of the time and a 503 5% of the time.",
        yaml: "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: default
spec:
  hosts:
  - ratings
  http:
  - name: chaos
    match:
    - headers:
        x-chaos:
          exact: enabled
    fault:
      delay:
        fixedDelay: 2s
        percentage:
          value: 10
      abort:
        httpStatus: 503
        percentage:
          value: 5
    route:
    - destination:
        host: ratings
  - name: default
    route:
    - destination:
        host: ratings
",
        stubs: &[RATINGS],
    },
    Template {
        id: "retries-timeouts",
        title: "Retries and timeouts",
        description: "A 10s route timeout, 3 retries of 2s each on connection failures, and outlier detection so retries avoid bad hosts.",
        yaml: "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: default
spec:
  hosts:
  - ratings
  http:
  - name: default
    timeout: 10s
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: connect-failure,refused-stream,unavailable,cancelled
    route:
    - destination:
        host: ratings
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
  namespace: default
spec:
  host: ratings
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
      maxEjectionPercent: 50
",
        stubs: &[RATINGS],
    },
    Template {
        id: "mirroring",
        title: "Traffic mirroring (10%)",
        description: "Live traffic goes to httpbin v1; a 10% copy is mirrored to v2 and its responses are discarded.",
        yaml: "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
  namespace: default
spec:
  hosts:
  - httpbin
  http:
  - name: default
    route:
    - destination:
        host: httpbin
        subset: v1
    mirror:
      host: httpbin
      subset: v2
    mirrorPercentage:
      value: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
  namespace: default
spec:
  host: httpbin
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
",
        stubs: &[HTTPBIN],
    },
    Template {
        id: "circuit-breaker",
        title: "Circuit breaker",
        description: "Connection-pool limits and outlier detection on httpbin (Istio's circuit-breaking task, with production-sized limits).",
        yaml: "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
  namespace: default
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        http1MaxPendingRequests: 10
        maxRequestsPerConnection: 10
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
      maxEjectionPercent: 50
",
        stubs: &[HTTPBIN],
    },
    Template {
        id: "sticky-sessions",
        title: "Load balancing and sticky sessions",
        description: "LEAST_REQUEST by default; subset v2 pins each user to one pod with a consistent hash of the session cookie.",
        yaml: "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
  namespace: default
spec:
  host: httpbin
  trafficPolicy:
    loadBalancer:
      simple: LEAST_REQUEST
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
    trafficPolicy:
      loadBalancer:
        consistentHash:
          httpCookie:
            name: session
            ttl: 3600s
",
        stubs: &[HTTPBIN],
    },
    Template {
        id: "locality-failover",
        title: "Locality failover",
        description: "Keep traffic in the client's region and fail over from us-east to us-west; outlier detection makes failover happen.",
        yaml: "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-failover
  namespace: default
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        failover:
        - from: us-east
          to: us-west
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 1m
",
        stubs: &[REVIEWS],
    },
    Template {
        id: "ingress-tls",
        title: "Ingress Gateway with TLS",
        description: "HTTPS on 443 with the certificate in the secret bookinfo-cert, HTTP on 80 redirected to HTTPS, routed to productpage.",
        yaml: "apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - bookinfo.example.com
    tls:
      mode: SIMPLE
      credentialName: bookinfo-cert
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - bookinfo.example.com
    tls:
      httpsRedirect: true
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
  namespace: default
spec:
  hosts:
  - bookinfo.example.com
  gateways:
  - bookinfo-gateway
  http:
  - name: productpage
    match:
    - uri:
        exact: /productpage
    - uri:
        prefix: /static
    - uri:
        prefix: /api/v1/products
    route:
    - destination:
        host: productpage
        port:
          number: 9080
  - name: not-found
    directResponse:
      status: 404
      body:
        string: not found
",
        stubs: &[PRODUCTPAGE],
    },
];

/// Empty resources for the sidebar's "add" buttons.
pub fn skeleton(kind: &str, name: &str) -> String {
    match kind {
        "VirtualService" => format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  hosts:\n  - {name}\n  http:\n  - route:\n    - destination:\n        host: {name}\n"
        ),
        "DestinationRule" => format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  host: {name}\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n"
        ),
        "Gateway" => format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port:\n      number: 80\n      name: http\n      protocol: HTTP\n    hosts:\n    - '*'\n"
        ),
        _ => format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  hosts:\n  - {name}.example.com\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - number: 443\n    name: https\n    protocol: TLS\n"
        ),
    }
}

pub fn by_id(id: &str) -> Option<&'static Template> {
    ALL.iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshroute_model::{check, load_str, CheckOptions, Level};

    #[test]
    fn every_template_loads_clean_with_its_stubs() {
        for t in ALL {
            let loaded = load_str(&t.text(true), None);
            assert!(loaded.resources().count() >= 2, "{}", t.id);
            let diags = check(&loaded, &CheckOptions::default());
            let bad: Vec<String> = diags
                .iter()
                .filter(|d| d.level != Level::Info)
                .map(|d| d.to_string())
                .collect();
            assert!(bad.is_empty(), "template {}: {bad:#?}", t.id);
        }
    }

    #[test]
    fn skeletons_load() {
        for kind in [
            "VirtualService",
            "DestinationRule",
            "Gateway",
            "ServiceEntry",
        ] {
            let loaded = load_str(&skeleton(kind, "demo"), None);
            assert_eq!(loaded.resources().count(), 1, "{kind}");
            let errors: Vec<_> = check(&loaded, &CheckOptions::default())
                .into_iter()
                .filter(|d| d.code == "IST0106")
                .collect();
            assert!(errors.is_empty(), "{kind}: {errors:?}");
        }
    }
}
