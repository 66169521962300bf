package locallambda

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// What an execution environment is given to call AWS services, as Lambda gives it: the execution
// role's credentials and the region, the endpoint overrides of the command's environment, and the
// Lambda metadata endpoint.

// MetadataPath is the Lambda metadata endpoint's path. AWS documents it
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-metadata-endpoint.html) as
// GET http://${AWS_LAMBDA_METADATA_API}/2026-01-15/metadata/execution-environment with the header
// "Authorization: Bearer ${AWS_LAMBDA_METADATA_TOKEN}", answered with {"AvailabilityZoneID": ...},
// Cache-Control "private, max-age=43200, immutable"; 401 when the token is missing or wrong, 405
// for a method other than GET. The Runtime Interface Emulator serves it the same way, on its
// Runtime API's address.
const MetadataPath = "/2026-01-15/metadata/execution-environment"

// metadataMaxAge is the Cache-Control max-age the metadata endpoint answers with: the response
// never changes within an execution environment.
const metadataMaxAge = 12 * time.Hour

// The placeholder credentials an environment gets when it is not handed real ones: any AWS
// endpoint refuses them, and local emulators (moto, LocalStack) accept them.
const (
	PlaceholderAccessKeyID     = "ASIALOCALLAMBDA00000"
	PlaceholderSecretAccessKey = "local-lambda-placeholder-secret"
	PlaceholderSessionToken    = "local-lambda-placeholder-token"
)

// Credentials are what every execution environment gets as its execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, when set, AWS_SESSION_TOKEN) and as its region
// (AWS_REGION and AWS_DEFAULT_REGION). An empty AccessKeyID gives the placeholder credentials, an
// empty Region gives Region. Printing a Credentials never shows its secret.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Region                                     string
}

// Placeholders reports whether c gives the placeholder credentials.
func (c Credentials) Placeholders() bool {
	return c.AccessKeyID == "" || c.AccessKeyID == PlaceholderAccessKeyID
}

// withDefaults fills in the placeholders and the default region.
func (c Credentials) withDefaults() Credentials {
	if c.AccessKeyID == "" {
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = PlaceholderAccessKeyID, PlaceholderSecretAccessKey, PlaceholderSessionToken
	}
	if c.Region == "" {
		c.Region = Region
	}
	return c
}

// String says which credentials these are without their secret: "placeholder credentials" or
// "access key …WXYZ" (its last four characters), and the region.
func (c Credentials) String() string {
	c = c.withDefaults()
	if c.Placeholders() {
		return "placeholder credentials, region " + c.Region
	}
	return fmt.Sprintf("access key …%s, region %s", lastFour(c.AccessKeyID), c.Region)
}

// GoString is String, so that %#v does not print the secret either.
func (c Credentials) GoString() string { return c.String() }

func lastFour(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return s[len(s)-4:]
}

// regionPart is one part of a region's name and its letters in an Availability Zone ID
// (us-east-1 → use1, ap-northeast-1 → apne1).
var regionPart = map[string]string{
	"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
	"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g",
}

var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// LocalAZID is the Availability Zone ID the metadata endpoint answers by default: the region's
// code, as in AWS's AZ IDs, with "local" where the zone would be named (us-east-1 →
// "use1-local-az1"); "local-az1" for a region it cannot abbreviate.
func LocalAZID(region string) string {
	if region == "" {
		region = Region
	}
	if !regionName.MatchString(region) {
		return "local-az1"
	}
	parts := strings.Split(region, "-")
	code := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		abbr, ok := regionPart[p]
		if !ok {
			return "local-az1"
		}
		code += abbr
	}
	return code + parts[len(parts)-1] + "-local-az1"
}

// azIDPattern is what an Availability Zone ID may look like here (use1-az1, use1-local-az1, …).
var azIDPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// CheckAZID refuses a value that cannot be an Availability Zone ID.
func CheckAZID(id string) error {
	if len(id) > 64 || !azIDPattern.MatchString(id) {
		return fmt.Errorf("availability zone ID %q: want lower-case letters, digits and dashes, such as use1-az1", id)
	}
	return nil
}

// EndpointEnv returns the variables of environ (os.Environ's form) that point the AWS SDKs at
// other endpoints: AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>. The local Lambda passes them
// to every environment, so a function can be pointed at moto_server or LocalStack.
func EndpointEnv(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (k == "AWS_ENDPOINT_URL" || strings.HasPrefix(k, "AWS_ENDPOINT_URL_")) && v != "" {
			out[k] = v
		}
	}
	return out
}

// EnvNames returns env's names, sorted (to say what is passed without the values).
func EnvNames(env map[string]string) []string {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// metadata serves the Lambda metadata endpoint to the environment's processes.
func (e *environment) metadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(e.metadataToken)) != 1 {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	body, _ := json.Marshal(struct {
		AvailabilityZoneID string `json:"AvailabilityZoneID"`
	}{e.f.s.cfg.AZID})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d, immutable", int(metadataMaxAge.Seconds())))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// Credentials are the credentials and region every environment gets (with defaults filled in);
// printing them never shows the secret.
func (s *Server) Credentials() Credentials { return s.cfg.Credentials }

// AZID is the Availability Zone ID the metadata endpoint answers.
func (s *Server) AZID() string { return s.cfg.AZID }
