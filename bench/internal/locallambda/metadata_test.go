package locallambda

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// envReport is what testdata/envreport answers: the environment, the lambdacontext and what
// the metadata endpoint said.
type envReport struct {
	Env     map[string]string `json:"env"`
	Context struct {
		RequestID          string `json:"request_id"`
		InvokedFunctionArn string `json:"invoked_function_arn"`
		FunctionName       string `json:"function_name"`
		FunctionVersion    string `json:"function_version"`
		MemoryLimitInMB    int    `json:"memory_limit_in_mb"`
		LogGroupName       string `json:"log_group_name"`
		LogStreamName      string `json:"log_stream_name"`
		DeadlineInMS       int64  `json:"deadline_in_ms"`
	} `json:"context"`
	Metadata struct {
		Status         int    `json:"status"`
		Body           string `json:"body"`
		CacheControl   string `json:"cache_control"`
		ContentType    string `json:"content_type"`
		NoTokenStatus  int    `json:"no_token_status"`
		BadTokenStatus int    `json:"bad_token_status"`
		PostStatus     int    `json:"post_status"`
		Error          string `json:"error"`
	} `json:"metadata"`
}

var (
	envReportOnce sync.Once
	envReportBin  string
	envReportErr  error
)

// envReportBinary builds testdata/envreport once.
func envReportBinary(t *testing.T) string {
	t.Helper()
	envReportOnce.Do(func() {
		envReportBin = filepath.Join(binDir, "envreport", "bootstrap")
		envReportErr = goBuild(".", "./testdata/envreport", envReportBin)
	})
	if envReportErr != nil {
		t.Fatalf("build testdata/envreport: %v", envReportErr)
	}
	return envReportBin
}

func parseEnvReport(t *testing.T, payload []byte) envReport {
	t.Helper()
	var r envReport
	if err := json.Unmarshal(payload, &r); err != nil || r.Env == nil {
		t.Fatalf("not a report: %v: %s", err, payload)
	}
	return r
}

// azOf is the AvailabilityZoneID of a metadata answer.
func azOf(t *testing.T, body string) string {
	t.Helper()
	var m struct{ AvailabilityZoneID string }
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("metadata body %q: %v", body, err)
	}
	return m.AvailabilityZoneID
}

// TestEnvironmentGetsCredentialsAndMetadata: every environment gets the configured credentials
// and region (placeholders by default), the endpoint overrides, and a metadata endpoint that
// answers its own token only, as AWS documents it.
func TestEnvironmentGetsCredentialsAndMetadata(t *testing.T) {
	bin := envReportBinary(t)
	tests := []struct {
		name    string
		cfg     Config
		fnEnv   map[string]string
		want    map[string]string // "" = must be absent
		wantAZ  string
		wantARN string
	}{
		{
			name: "placeholders by default",
			want: map[string]string{"AWS_ACCESS_KEY_ID": PlaceholderAccessKeyID, "AWS_SECRET_ACCESS_KEY": PlaceholderSecretAccessKey,
				"AWS_SESSION_TOKEN": PlaceholderSessionToken, "AWS_REGION": Region, "AWS_DEFAULT_REGION": Region, "AWS_ENDPOINT_URL": ""},
			wantAZ: "use1-local-az1",
		},
		{
			name: "your credentials, region and endpoints",
			cfg: Config{
				Credentials: Credentials{AccessKeyID: "AKIAEXAMPLEKEY001234", SecretAccessKey: "s3cr3t", Region: "eu-west-1"},
				Env:         map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5001", "AWS_REGION": "not-this"},
			},
			fnEnv: map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5002"},
			want: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY001234", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "",
				"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
				"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5002"},
			wantAZ: "euw1-local-az1",
		},
		{
			name:   "an AZ ID of your choice",
			cfg:    Config{AZID: "use1-az4", Credentials: Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "x", SessionToken: "tok"}},
			want:   map[string]string{"AWS_SESSION_TOKEN": "tok", "AWS_REGION": Region},
			wantAZ: "use1-az4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Functions = []FunctionSpec{{Name: "envfn", Binary: bin, Handler: "bootstrap", MemoryMB: 256, Timeout: 10 * time.Second, Env: tt.fnEnv}}
			s := start(t, cfg)
			r := parseEnvReport(t, invoke(t, client(s), "envfn", `{}`).Payload)
			for k, v := range tt.want {
				got, ok := r.Env[k]
				if v == "" && ok {
					t.Errorf("%s=%q, want it unset", k, got)
				} else if v != "" && got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			if got := r.Env["AWS_LAMBDA_METADATA_API"]; got != r.Env["AWS_LAMBDA_RUNTIME_API"] || !strings.HasPrefix(got, "127.0.0.1:") {
				t.Errorf("AWS_LAMBDA_METADATA_API=%q, want the runtime API's address on 127.0.0.1 (%s)", got, r.Env["AWS_LAMBDA_RUNTIME_API"])
			}
			if tok := r.Env["AWS_LAMBDA_METADATA_TOKEN"]; len(tok) != 64 {
				t.Errorf("AWS_LAMBDA_METADATA_TOKEN=%q, want 64 hex digits", tok)
			}
			m := r.Metadata
			if m.Error != "" || m.Status != 200 || azOf(t, m.Body) != tt.wantAZ || m.ContentType != "application/json" ||
				m.CacheControl != "private, max-age=43200, immutable" {
				t.Errorf("metadata with the token: %+v, want 200, AZ %s, application/json, private, max-age=43200, immutable", m, tt.wantAZ)
			}
			if m.NoTokenStatus != 401 || m.BadTokenStatus != 401 || m.PostStatus != 405 {
				t.Errorf("metadata without the token %d, with a wrong one %d, POST %d; want 401, 401, 405", m.NoTokenStatus, m.BadTokenStatus, m.PostStatus)
			}
			if got := s.AZID(); got != tt.wantAZ {
				t.Errorf("Server.AZID() = %q, want %q", got, tt.wantAZ)
			}
		})
	}
}

// TestMetadataTokenPerEnvironment: each environment has a token of its own, and its metadata
// endpoint refuses another environment's.
func TestMetadataTokenPerEnvironment(t *testing.T) {
	s := start(t, Config{Functions: []FunctionSpec{{Name: "envfn", Binary: envReportBinary(t), Handler: "bootstrap", MemoryMB: 128, Timeout: 10 * time.Second}}})
	c := client(s)
	var wg sync.WaitGroup
	reports := make([]envReport, 2)
	for i := range reports {
		wg.Go(func() { reports[i] = parseEnvReport(t, invoke(t, c, "envfn", `{"action":"sleep","ms":500}`).Payload) })
	}
	wg.Wait()
	a, b := reports[0].Env, reports[1].Env
	if a["AWS_LAMBDA_METADATA_TOKEN"] == b["AWS_LAMBDA_METADATA_TOKEN"] || a["AWS_LAMBDA_METADATA_API"] == b["AWS_LAMBDA_METADATA_API"] {
		t.Fatalf("two environments share a token or an address: %s@%s and %s@%s", a["AWS_LAMBDA_METADATA_TOKEN"], a["AWS_LAMBDA_METADATA_API"],
			b["AWS_LAMBDA_METADATA_TOKEN"], b["AWS_LAMBDA_METADATA_API"])
	}
	req := fmt.Sprintf("http://%s%s", a["AWS_LAMBDA_METADATA_API"], MetadataPath)
	if code := metadataStatus(t, req, b["AWS_LAMBDA_METADATA_TOKEN"]); code != 401 {
		t.Errorf("another environment's token: %d, want 401", code)
	}
	if code := metadataStatus(t, req, a["AWS_LAMBDA_METADATA_TOKEN"]); code != 200 {
		t.Errorf("its own token: %d, want 200", code)
	}
}

func TestLocalAZID(t *testing.T) {
	for _, tt := range []struct{ region, want string }{
		{"", "use1-local-az1"},
		{"us-east-1", "use1-local-az1"},
		{"eu-west-1", "euw1-local-az1"},
		{"ap-northeast-1", "apne1-local-az1"},
		{"ap-southeast-2", "apse2-local-az1"},
		{"us-gov-west-1", "usgw1-local-az1"},
		{"xx-middle-1", "local-az1"},
		{"nonsense", "local-az1"},
	} {
		if got := LocalAZID(tt.region); got != tt.want {
			t.Errorf("LocalAZID(%q) = %q, want %q", tt.region, got, tt.want)
		}
		if err := CheckAZID(LocalAZID(tt.region)); err != nil {
			t.Errorf("CheckAZID(LocalAZID(%q)): %v", tt.region, err)
		}
	}
}

func TestCheckAZID(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"use1-az1", true}, {"use1-local-az1", true}, {"local", true},
		{"", false}, {"USE1-AZ1", false}, {"use1 az1", false}, {"use1-", false}, {strings.Repeat("a", 65), false},
	} {
		if err := CheckAZID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckAZID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
	if _, err := Start(t.Context(), Config{Functions: []FunctionSpec{fakeSpec("f")}, AZID: "No Such", InvokeAddr: "127.0.0.1:0"}); err == nil {
		t.Error("Start with a bad AZID: no error")
	}
}

func TestEndpointEnv(t *testing.T) {
	got := EndpointEnv([]string{"AWS_ENDPOINT_URL=http://a", "AWS_ENDPOINT_URL_DYNAMODB=http://b", "AWS_ENDPOINT_URL_S3=",
		"AWS_ENDPOINT_URLX=no", "HOME=/root", "AWS_ACCESS_KEY_ID=no"})
	want := map[string]string{"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_DYNAMODB": "http://b"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("EndpointEnv = %v, want %v", got, want)
	}
	if names := strings.Join(EnvNames(got), ","); names != "AWS_ENDPOINT_URL,AWS_ENDPOINT_URL_DYNAMODB" {
		t.Errorf("EnvNames = %s", names)
	}
}

// TestCredentialsNeverPrintTheirSecret: every way of printing credentials, or a Config that holds
// them, shows at most the access key's last four characters.
func TestCredentialsNeverPrintTheirSecret(t *testing.T) {
	c := Credentials{AccessKeyID: "AKIAEXAMPLEKEY009876", SecretAccessKey: "wJalrXUtnFEMI-SECRET", SessionToken: "SESSION-TOKEN-VALUE", Region: "eu-west-1"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, &c, Config{Credentials: c}} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, "SECRET") || strings.Contains(out, "SESSION-TOKEN") || strings.Contains(out, "AKIAEXAMPLEKEY") {
				t.Errorf("%s of %T shows a secret: %s", format, v, out)
			}
		}
	}
	if got := c.String(); got != "access key …9876, region eu-west-1" {
		t.Errorf("String() = %q", got)
	}
	if got := (Credentials{}).String(); got != "placeholder credentials, region us-east-1" {
		t.Errorf("zero String() = %q", got)
	}
}

// metadataStatus is the status of a GET of url with the bearer token.
func metadataStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
