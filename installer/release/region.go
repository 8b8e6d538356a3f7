package release

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// imdsRegionTimeout bounds the instance metadata lookup, which hangs for seconds on
// machines that are not EC2 instances.
const imdsRegionTimeout = 3 * time.Second

// ResolveRegion picks the AWS region, first found wins: the --region flag, AWS_REGION,
// AWS_DEFAULT_REGION (the AWS CLI's variable, which the SDK does not read), the region
// of the selected profile, then instance metadata. profileRegion and imdsRegion may be
// nil; an instance metadata error only means "not on EC2" and is passed over. The
// region found is checked with ValidateRegion.
func ResolveRegion(ctx context.Context, flag string, getenv func(string) string, profileRegion func(context.Context) string, imdsRegion func(context.Context) (string, error)) (string, error) {
	check := func(r, from string) (string, error) {
		if err := ValidateRegion(r); err != nil {
			return "", fmt.Errorf("region from %s: %w", from, err)
		}
		return r, nil
	}
	if flag != "" {
		return check(flag, "--region")
	}
	if getenv != nil {
		for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
			if r := getenv(name); r != "" {
				return check(r, name)
			}
		}
	}
	if profileRegion != nil {
		if r := profileRegion(ctx); r != "" {
			return check(r, "the AWS config profile")
		}
	}
	if imdsRegion != nil {
		ictx, cancel := context.WithTimeout(ctx, imdsRegionTimeout)
		r, err := imdsRegion(ictx)
		cancel()
		if err == nil && r != "" {
			return check(r, "instance metadata")
		}
	}
	return "", fail.WithHint(fail.Usagef("region required: no --region, AWS_REGION, AWS_DEFAULT_REGION, profile region or instance metadata"),
		"pass --region REGION (e.g. --region us-east-1) or set AWS_REGION")
}

// regionRE is the shape of AWS region names: a two-letter area or one of the special
// partition prefixes, a direction word and a number. Partitions: aws (us-east-1),
// aws-cn (cn-north-1), aws-us-gov (us-gov-west-1), aws-iso (us-iso-east-1), aws-iso-b
// (us-isob-east-1), aws-iso-f (us-isof-south-1), aws-iso-e (eu-isoe-west-1) and the
// European Sovereign Cloud (eusc-de-east-1).
var regionRE = regexp.MustCompile(`^(?:[a-z]{2}|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z]+-[1-9][0-9]?$`)

// zoneRE matches an Availability Zone name, a common mistake for a region.
var zoneRE = regexp.MustCompile(`^((?:[a-z]{2}|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z]+-[1-9][0-9]?)[a-z]$`)

// ValidateRegion checks that r has the shape of an AWS region name. It does not check
// that the region exists, so new regions work without a new ssm-setup.
func ValidateRegion(r string) error {
	if regionRE.MatchString(r) {
		return nil
	}
	if m := zoneRE.FindStringSubmatch(r); m != nil {
		return fail.WithHint(fail.Usagef("region %q is an Availability Zone, not a region", r), fmt.Sprintf("use --region %s", m[1]))
	}
	return fail.WithHint(fail.Usagef("region %q is not an AWS region name (want e.g. us-east-1, cn-north-1, us-gov-west-1)", r),
		"pass --region REGION in lower case, as listed by `aws ec2 describe-regions`")
}

// BucketName is the public bucket that holds the agent releases of region.
func BucketName(region string) string { return "amazon-ssm-" + region }
