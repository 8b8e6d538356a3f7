package hybrid

import (
	"context"
	"errors"
	"fmt"
	"github.com/ssm-setup/ssm-setup/internal/awslog"
	"log/slog"
	"net"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/ssm-setup/ssm-setup/installer/release"
	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// uuidRE is the shape of an activation id.
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// managedIDRE is the shape of a hybrid managed node id (facts, section 5).
var managedIDRE = regexp.MustCompile(`^mi-[0-9a-f]{17}$`)

// ValidateActivationID checks that id has the shape of an activation id (a UUID).
func ValidateActivationID(id string) error {
	if uuidRE.MatchString(id) {
		return nil
	}
	return fail.WithHint(fail.Usagef("activation id %q is not a UUID (want e.g. 4f1e8c2a-1b2c-4d5e-8f90-123456789abc)", id),
		"pass the ActivationId that 'ssm-setup activation create' or 'aws ssm create-activation' printed")
}

// ValidateManagedInstanceID checks that id has the shape of a hybrid node id, mi- and 17
// hex digits.
func ValidateManagedInstanceID(id string) error {
	if managedIDRE.MatchString(id) {
		return nil
	}
	return fail.WithHint(fail.Usagef("managed instance id %q is not a hybrid node id (want mi- and 17 hex digits, e.g. mi-0123456789abcdef0)", id),
		"pass the id that 'aws ssm describe-instance-information' lists for the node")
}

// newClient builds an SSM client for region from the user's AWS configuration: the
// standard credential chain, and the standard endpoint settings (AWS_ENDPOINT_URL_SSM,
// endpoint_url in the profile), which tests point at a local server.
func newClient(ctx context.Context, region string) (*ssm.Client, error) {
	if err := release.ValidateRegion(region); err != nil {
		return nil, err
	}
	// The SDK logs nothing on its own: ssm-setup reports errors itself.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithLogger(awslog.New(nil)))
	if err != nil {
		return nil, fail.WithHint(fail.Usagef("load AWS configuration: %w", err), "check AWS_PROFILE, AWS_CONFIG_FILE and ~/.aws/config")
	}
	return ssm.NewFromConfig(cfg), nil
}

// apiError turns an error of the SSM API call op into plain words with a next step, as
// a fail.Registration error. permissions names the IAM actions op needs, for the
// AccessDenied case.
func apiError(op, region string, permissions []string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if isNoCredentials(err) {
		return fail.WithHint(fail.New(fail.Registration, "%s: no AWS credentials: %w", op, err),
			"configure credentials with permission "+strings.Join(permissions, " and ")+": AWS_PROFILE, 'aws configure', or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		switch code {
		case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException":
			return fail.WithHint(fail.New(fail.Registration, "%s: access denied: the credentials lack permission %s: %s", op, strings.Join(permissions, " and "), msg),
				"grant "+strings.Join(permissions, " and ")+" to the user or role ssm-setup runs with ('aws sts get-caller-identity' shows which)")
		case "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException":
			return fail.WithHint(fail.New(fail.Registration, "%s: AWS does not accept the credentials (%s): %s", op, code, msg),
				"refresh the credentials (expired session or deleted access key) and retry")
		case "InvalidSignatureException", "SignatureDoesNotMatch":
			return fail.WithHint(fail.New(fail.Registration, "%s: AWS rejected the request signature (%s): %s", op, code, msg),
				"check that the secret key matches the access key and that this machine's clock is right (timedatectl)")
		case "ValidationException", "InvalidParameters":
			err := fail.New(fail.Registration, "%s: AWS rejected the parameters: %s", op, msg)
			if strings.Contains(strings.ToLower(msg), "role") {
				return fail.WithHint(err, "the IAM role must exist and trust ssm.amazonaws.com (see 'Create the IAM service role for a hybrid environment' in the Systems Manager guide)")
			}
			return err
		case "InvalidActivation", "InvalidActivationId":
			return fail.WithHint(fail.New(fail.Registration, "%s: no such activation in %s: %s", op, region, msg),
				"activations are regional: check the id and --region with 'ssm-setup activation list --region "+region+"'")
		case "InvalidInstanceId":
			return fail.WithHint(fail.New(fail.Registration, "%s: no such managed node in %s: %s", op, region, msg),
				"check the id and --region; the node may already be deregistered")
		case "ThrottlingException", "TooManyUpdates":
			return fail.WithHint(fail.New(fail.Registration, "%s: AWS throttled the request (%s): %s", op, code, msg), "retry in a minute")
		}
		return fail.New(fail.Registration, "%s: AWS said %s: %s", op, code, msg)
	}
	if isNetworkError(err) {
		return fail.WithHint(fail.New(fail.Registration, "%s: cannot reach the SSM endpoint of %s: %w", op, region, err),
			"check the network, DNS and the https_proxy setting; the endpoint is ssm."+region+" on port 443")
	}
	return fail.New(fail.Registration, "%s: %w", op, err)
}

// isNoCredentials reports that the SDK found no credentials to sign with. The SDK has
// no error type for it: older request paths return a *v4.SigningError, the current
// one wraps the provider's error as "get identity: get credentials: ...".
func isNoCredentials(err error) bool {
	var signErr *v4.SigningError
	if errors.As(err, &signErr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "get credentials:") || strings.Contains(msg, "failed to retrieve credentials")
}

// isNetworkError reports errors of the connection itself: DNS, refused, timeouts.
func isNetworkError(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"dial tcp", "no such host", "connection refused", "timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// TagManagedInstance adds tags to the managed node id (AddTagsToResource, resource type
// ManagedInstance). Tagging is a convenience on top of a registration that already
// worked, so missing credentials and AccessDenied are not errors: it logs a warning with
// the command to tag later and returns false, nil. Other failures are errors.
func TagManagedInstance(ctx context.Context, region, id string, tags []Tag, logger *slog.Logger) (bool, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(tags) == 0 {
		return false, nil
	}
	if err := ValidateManagedInstanceID(id); err != nil {
		return false, err
	}
	client, err := newClient(ctx, region)
	if err != nil {
		return false, err
	}
	_, err = client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: "ManagedInstance",
		ResourceId:   aws.String(id),
		Tags:         sdkTags(tags),
	})
	if err == nil {
		return true, nil
	}
	var apiErr smithy.APIError
	denied := errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorCode(), "AccessDenied")
	if isNoCredentials(err) || denied {
		reason := "no AWS credentials"
		if denied {
			reason = "access denied (needs ssm:AddTagsToResource)"
		}
		logger.Warn(fmt.Sprintf("tags not added to %s: %s", id, reason),
			"hint", fmt.Sprintf("tag it later: aws ssm add-tags-to-resource --region %s --resource-type ManagedInstance --resource-id %s --tags %s", region, id, tagsArg(tags)))
		return false, nil
	}
	return false, apiError(fmt.Sprintf("tag %s", id), region, []string{"ssm:AddTagsToResource"}, err)
}

// tagsArg formats tags for the AWS CLI's --tags option.
func tagsArg(tags []Tag) string {
	parts := make([]string, 0, len(tags))
	for _, t := range tags {
		parts = append(parts, fmt.Sprintf("Key=%s,Value=%s", t.Key, t.Value))
	}
	return strings.Join(parts, " ")
}

// deregisterManagedInstance calls DeregisterManagedInstance for id in region.
func deregisterManagedInstance(ctx context.Context, region, id string) error {
	client, err := newClient(ctx, region)
	if err != nil {
		return err
	}
	_, err = client.DeregisterManagedInstance(ctx, &ssm.DeregisterManagedInstanceInput{InstanceId: aws.String(id)})
	return err
}
