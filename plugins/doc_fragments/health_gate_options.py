# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Paired with HEALTH_GATE_ARG_SPEC and (PROBE) PROBE_ARG_SPEC in plugins/module_utils/args_common.py; the
# port_forward suboptions repeat kubernetes.core.k8s_auth_options (a fragment cannot be nested under a suboption).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  urls:
    description:
    - URLs to probe, for example C(http://finance-service/health).
    - With O(port_forward), scheme and path are kept and the host and port are replaced by the local end of the
      port-forward.
    type: list
    elements: str
    required: true
  expected_status:
    description:
    - HTTP status codes that count as success.
    type: list
    elements: int
    default:
    - 200
  json_match:
    description:
    - 'Dotted paths into the JSON response body and the value each must have, for example C({status: ok, info.database.status:
      up}).'
    - List elements are addressed by index, for example C(checks.0.status). Values are compared after converting
      both sides to strings when their types differ.
    type: dict
"""

    # What health_gate and smoke_checks share (PROBE_ARG_SPEC).
    PROBE = r"""
options:
  successes:
    description:
    - Consecutive successful responses needed per URL; any failure resets the count.
    type: int
    default: 3
  interval:
    description:
    - Seconds between two probes of the same URL.
    type: float
    default: 1.0
  timeout:
    description:
    - Time budget in seconds for all URLs to reach O(successes); M(vextrus.deploy.smoke_checks) gives each check
      a budget of its own.
    type: float
    default: 60.0
  request_timeout:
    description:
    - Timeout of one request in seconds.
    type: float
    default: 5.0
  bearer_token:
    description:
    - 'Token sent as C(Authorization: Bearer <token>); never returned or logged, and masked in returned response
      bodies.'
    type: str
  validate_certs:
    description:
    - Verify TLS certificates of HTTPS URLs.
    type: bool
    default: true
  redact:
    description:
    - Secret values to mask with C(********) in the returned response bodies, details and messages; each value
      also in its base64 forms and, for a URL, its password (see the P(vextrus.deploy.redact#filter) filter
      for the rule). Never logged.
    type: list
    elements: str
    default: []
  port_forward:
    description:
    - Probe through a port-forward to a Ready pod, as C(kubectl port-forward) does, when the Service is not reachable
      from the controller.
    - A listener on 127.0.0.1 relays every connection through the API server's portforward subresource; it is closed
      when the module ends, also on failure.
    - Takes the connection options of M(kubernetes.core.k8s) as suboptions.
    type: dict
    suboptions:
      namespace:
        description:
        - Namespace of the Service or Pod.
        type: str
        required: true
      service:
        description:
        - Service whose selector picks the pod; a Ready pod not being deleted is chosen.
        - O(port_forward.port) is then a port of the Service, mapped to its C(targetPort).
        type: str
      pod:
        description:
        - Pod to forward to directly; O(port_forward.port) is then the container port.
        type: str
      port:
        description:
        - Port of the Service (or of the Pod) to forward.
        type: int
        required: true
      host:
        description:
        - Provide a URL for accessing the API. Can also be specified via K8S_AUTH_HOST environment variable.
        type: str
      api_key:
        description:
        - Token used to authenticate with the API. Can also be specified via K8S_AUTH_API_KEY environment variable.
        type: str
      kubeconfig:
        description:
        - Path to an existing Kubernetes config file. If not provided, and no other connection options are provided,
          the Kubernetes client will attempt to load the default configuration file from I(~/.kube/config). Can
          also be specified via K8S_AUTH_KUBECONFIG environment variable.
        - Multiple Kubernetes config file can be provided using separator ';' for Windows platform or ':' for others
          platforms.
        - The kubernetes configuration can be provided as dictionary. This feature requires a python kubernetes
          client version >= 17.17.0.
        type: raw
      context:
        description:
        - The name of a context found in the config file. Can also be specified via K8S_AUTH_CONTEXT environment
          variable.
        type: str
      username:
        description:
        - Provide a username for authenticating with the API. Can also be specified via K8S_AUTH_USERNAME environment
          variable.
        - Please note that this only works with clusters configured to use HTTP Basic Auth. If your cluster has
          a different form of authentication (e.g. OAuth2 in OpenShift), this option will not work as expected and
          you should look into the M(community.okd.k8s_auth) module, as that might do what you need.
        type: str
      password:
        description:
        - Provide a password for authenticating with the API. Can also be specified via K8S_AUTH_PASSWORD environment
          variable.
        - Please read the description of the C(username) option for a discussion of when this option is applicable.
        type: str
      client_cert:
        description:
        - Path to a certificate used to authenticate with the API. Can also be specified via K8S_AUTH_CERT_FILE
          environment variable.
        type: path
        aliases:
        - cert_file
      client_key:
        description:
        - Path to a key file used to authenticate with the API. Can also be specified via K8S_AUTH_KEY_FILE environment
          variable.
        type: path
        aliases:
        - key_file
      ca_cert:
        description:
        - Path to a CA certificate used to authenticate with the API. The full certificate chain must be provided
          to avoid certificate validation errors. Can also be specified via K8S_AUTH_SSL_CA_CERT environment variable.
        type: path
        aliases:
        - ssl_ca_cert
      validate_certs:
        description:
        - Whether or not to verify the API server's SSL certificates. Can also be specified via K8S_AUTH_VERIFY_SSL
          environment variable.
        type: bool
        aliases:
        - verify_ssl
      proxy:
        description:
        - The URL of an HTTP proxy to use for the connection. Can also be specified via K8S_AUTH_PROXY environment
          variable.
        - Please note that this module does not pick up typical proxy settings from the environment (e.g. HTTP_PROXY).
        type: str
      no_proxy:
        description:
        - The comma separated list of hosts/domains/IP/CIDR that shouldn't go through proxy. Can also be specified
          via K8S_AUTH_NO_PROXY environment variable.
        - Please note that this module does not pick up typical proxy settings from the environment (e.g. NO_PROXY).
        - This feature requires kubernetes>=19.15.0. When kubernetes library is less than 19.15.0, it fails even
          no_proxy set in correct.
        - example value is "localhost,.local,.example.com,127.0.0.1,127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
        type: str
      proxy_headers:
        description:
        - The Header used for the HTTP proxy.
        - Documentation can be found here
          U(https://urllib3.readthedocs.io/en/latest/reference/urllib3.util.html?highlight=proxy_headers#urllib3.util.make_headers).
        type: dict
        suboptions:
          proxy_basic_auth:
            type: str
            description:
            - Colon-separated username:password for proxy basic authentication header.
            - Can also be specified via K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH environment.
          basic_auth:
            type: str
            description:
            - Colon-separated username:password for basic authentication header.
            - Can also be specified via K8S_AUTH_PROXY_HEADERS_BASIC_AUTH environment.
          user_agent:
            type: str
            description:
            - String representing the user-agent you want, such as foo/1.0.
            - Can also be specified via K8S_AUTH_PROXY_HEADERS_USER_AGENT environment.
      persist_config:
        description:
        - Whether or not to save the kube config refresh tokens. Can also be specified via K8S_AUTH_PERSIST_CONFIG
          environment variable.
        - When the k8s context is using a user credentials with refresh tokens (like oidc or gke/gcloud auth), the
          token is refreshed by the k8s python client library but not saved by default. So the old refresh token
          can expire and the next auth might fail. Setting this flag to true will tell the k8s python client to
          save the new refresh token to the kube config file.
        - Default to false.
        - Please note that the current version of the k8s python client library does not support setting this flag
          to True yet.
        - 'The fix for this k8s python library is here: https://github.com/kubernetes-client/python-base/pull/169'
        type: bool
      impersonate_user:
        description:
        - Username to impersonate for the operation.
        - Can also be specified via K8S_AUTH_IMPERSONATE_USER environment.
        type: str
      impersonate_groups:
        description:
        - Group(s) to impersonate for the operation.
        - 'Can also be specified via K8S_AUTH_IMPERSONATE_GROUPS environment. Example: Group1,Group2'
        type: list
        elements: str
"""
