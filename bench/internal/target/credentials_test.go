package target

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lambdabench/bench/internal/locallambda"
)

// hermeticCredentials leaves the SDK's default chain only what the test gives it: no
// credentials in the environment, the given config and credentials files, and no instance
// metadata lookup.
func hermeticCredentials(t *testing.T, config, credentials string) {
	t.Helper()
	dir := t.TempDir()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if body != "" {
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	t.Setenv("AWS_CONFIG_FILE", write("config", config))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", write("credentials", credentials))
}

func TestResolveCredentials(t *testing.T) {
	const (
		config = "[default]\nregion = eu-central-1\n[profile dev]\nregion = ap-southeast-2\n[profile slow]\ncredential_process = sleep 2\n"
		creds  = "[default]\naws_access_key_id = AKIADEFAULTKEY004321\naws_secret_access_key = default-secret\n" +
			"[dev]\naws_access_key_id = ASIADEVKEY0000005678\naws_secret_access_key = dev-secret\naws_session_token = dev-token\n"
	)
	tests := []struct {
		name              string
		config, creds     string
		env               map[string]string
		opts              CredentialsOptions
		want              locallambda.Credentials
		wantLine, wantErr string
	}{
		{
			name: "none: placeholders, no lookup", config: config, creds: creds,
			opts:     CredentialsOptions{Profile: NoCredentials},
			want:     locallambda.Credentials{Region: LocalRegion},
			wantLine: "placeholders, as asked",
		},
		{
			name: "none with a region", opts: CredentialsOptions{Profile: NoCredentials, Region: "eu-west-1"},
			want: locallambda.Credentials{Region: "eu-west-1"}, wantLine: "region eu-west-1",
		},
		{
			name: "the environment's", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000001234", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION": "eu-west-1"},
			want:     locallambda.Credentials{AccessKeyID: "AKIAENVKEY0000001234", SecretAccessKey: "env-secret", Region: "eu-west-1"},
			wantLine: "yours, from your default chain (EnvConfigCredentials): access key …1234, region eu-west-1",
		},
		{
			name: "the default profile's", config: config, creds: creds,
			want:     locallambda.Credentials{AccessKeyID: "AKIADEFAULTKEY004321", SecretAccessKey: "default-secret", Region: "eu-central-1"},
			wantLine: "access key …4321, region eu-central-1",
		},
		{
			name: "a named profile's, and --region", config: config, creds: creds, opts: CredentialsOptions{Profile: "dev", Region: "us-west-2"},
			want:     locallambda.Credentials{AccessKeyID: "ASIADEVKEY0000005678", SecretAccessKey: "dev-secret", SessionToken: "dev-token", Region: "us-west-2"},
			wantLine: "yours, from profile dev",
		},
		{
			name: "AWS_PROFILE", config: config, creds: creds, env: map[string]string{"AWS_PROFILE": "dev"},
			want: locallambda.Credentials{AccessKeyID: "ASIADEVKEY0000005678", SecretAccessKey: "dev-secret", SessionToken: "dev-token", Region: "ap-southeast-2"},
		},
		{
			name:     "none found: placeholders and why",
			want:     locallambda.Credentials{Region: LocalRegion},
			wantLine: "placeholders: none found in your default chain (",
		},
		{
			name: "a named profile that does not exist is an error", config: config, creds: creds,
			opts: CredentialsOptions{Profile: "nosuch"}, wantErr: "nosuch",
		},
		{
			name: "a chain that does not answer is bounded", config: config, env: map[string]string{"AWS_PROFILE": "slow"},
			opts: CredentialsOptions{Timeout: 300 * time.Millisecond},
			want: locallambda.Credentials{Region: LocalRegion}, wantLine: "no answer within 300ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hermeticCredentials(t, tt.config, tt.creds)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			began := time.Now()
			got, line, err := ResolveCredentials(ctx, tt.opts)
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("took %s", took)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("credentials %s (%q/%q), want %s", got, got.AccessKeyID, got.SessionToken, tt.want)
			}
			if !strings.Contains(line, tt.wantLine) {
				t.Errorf("line %q, want it to contain %q", line, tt.wantLine)
			}
			for _, secret := range []string{got.SecretAccessKey, got.SessionToken, got.AccessKeyID} {
				if secret != "" && strings.Contains(line, secret) {
					t.Errorf("line %q shows a secret", line)
				}
			}
		})
	}
}
