package target

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"lambdabench/bench/internal/locallambda"
)

// NoCredentials is the profile name that asks for placeholder credentials.
const NoCredentials = "none"

// DefaultCredentialsTimeout bounds the resolution of the default chain:
// on a machine outside AWS with no credentials its last link, the EC2
// instance metadata service, only answers with time-outs.
const DefaultCredentialsTimeout = 5 * time.Second

// CredentialsOptions say which credentials the local Lambda hands a user's
// function, as `sam local` does: the user's own.
type CredentialsOptions struct {
	// Profile is the shared config profile whose credentials the function
	// gets; "" = the SDK's default chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE,
	// ~/.aws, SSO, the instance's role); NoCredentials = placeholders.
	Profile string
	// Region is the function's AWS_REGION; "" = the chain's (AWS_REGION,
	// the profile's), else LocalRegion.
	Region string
	// Timeout bounds the resolution (0 = DefaultCredentialsTimeout).
	Timeout time.Duration
}

// ResolveCredentials resolves once the credentials the local Lambda's
// environments get, and says in one line where they come from (never a
// secret: the access key's last four characters at most). When the default
// chain finds none, or does not answer within the timeout, the function gets
// placeholders and the line says why. A profile named explicitly that gives
// no credentials is an error.
func ResolveCredentials(ctx context.Context, o CredentialsOptions) (locallambda.Credentials, string, error) {
	if o.Profile == NoCredentials {
		c := locallambda.Credentials{Region: orDefault(o.Region, LocalRegion)}
		return c, "placeholders, as asked: the function can reach no AWS account; region " + c.Region, nil
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultCredentialsTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		cfg   aws.Config
		creds aws.Credentials
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		// The SDK's own warnings (an IMDS fallback) would print on stderr.
		opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
		if o.Region != "" {
			opts = append(opts, config.WithRegion(o.Region))
		}
		if o.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(o.Profile))
		}
		if r.cfg, r.err = config.LoadDefaultConfig(ctx, opts...); r.err != nil {
			done <- r
			return
		}
		if r.cfg.Credentials == nil {
			r.err = errors.New("no credential provider")
		} else {
			r.creds, r.err = r.cfg.Credentials.Retrieve(ctx)
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = fmt.Errorf("no answer within %s", timeout)
	}
	chain := "your default chain"
	if o.Profile != "" {
		chain = "profile " + o.Profile
	}
	region := orDefault(o.Region, orDefault(r.cfg.Region, LocalRegion))
	if r.err == nil && r.creds.AccessKeyID == "" {
		r.err = errors.New("it gave an empty access key")
	}
	if r.err != nil {
		if o.Profile != "" {
			return locallambda.Credentials{}, "", fmt.Errorf("no credentials: %s", firstLine(r.err))
		}
		c := locallambda.Credentials{Region: region}
		return c, fmt.Sprintf("placeholders: none found in %s (%s); region %s", chain, firstLine(r.err), region), nil
	}
	c := locallambda.Credentials{AccessKeyID: r.creds.AccessKeyID, SecretAccessKey: r.creds.SecretAccessKey,
		SessionToken: r.creds.SessionToken, Region: region}
	line := fmt.Sprintf("yours, from %s", chain)
	if r.creds.Source != "" {
		line += " (" + r.creds.Source + ")"
	}
	line += ": " + c.String()
	if r.creds.CanExpire && !r.creds.Expires.IsZero() {
		line += ", expiring " + r.creds.Expires.UTC().Format("2006-01-02 15:04 UTC") + " (resolved once: restart to renew)"
	}
	return c, line, nil
}

// firstLine is an error's first line, at most 120 characters: the SDK's
// credential errors chain every provider's reason. The chain's plain "found
// nothing" is said in words.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	s = strings.TrimPrefix(s, "failed to refresh cached credentials, ")
	if strings.HasPrefix(s, "no EC2 IMDS role found") {
		return "nothing in the environment, the shared files or an instance role"
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
