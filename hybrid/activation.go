package hybrid

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// Limits of CreateActivation (facts, section 5).
const (
	MinRegistrationLimit = 1
	MaxRegistrationLimit = 1000
	DefaultExpiry        = 24 * time.Hour
	MaxExpiry            = 30 * 24 * time.Hour
	// maxInstanceName is the longest DefaultInstanceName AWS accepts.
	maxInstanceName = 256
	// maxRoleName is the longest IAM role name AWS accepts (a path may precede it).
	maxRoleName = 64
)

// Tag is one AWS resource tag. Tags are kept in a slice, in the order the user gave
// them, so requests and output are stable.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseTags parses KEY=VALUE items (each item may itself hold a comma-separated list,
// as --tags a=1,b=2 gives). Keys must be unique, 1-128 characters and not start with
// "aws:"; values may be empty and up to 256 characters.
func ParseTags(items []string) ([]Tag, error) {
	var tags []Tag
	for _, item := range items {
		for _, kv := range strings.Split(item, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fail.WithHint(fail.Usagef("tag %q has no '=': want KEY=VALUE", kv), "pass tags as --tag Env=prod or --tags Env=prod,Team=ops")
			}
			tags = append(tags, Tag{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		}
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// validateTags checks the rules ParseTags documents.
func validateTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > 128:
			return fail.Usagef("tag key %q: the key must be 1 to 128 characters", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return fail.Usagef("tag key %q: keys starting with \"aws:\" are reserved by AWS", t.Key)
		case utf8.RuneCountInString(t.Value) > 256:
			return fail.Usagef("tag %q: the value must be at most 256 characters", t.Key)
		case seen[t.Key]:
			return fail.Usagef("tag key %q given twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// sdkTags converts tags for the SDK.
func sdkTags(tags []Tag) []types.Tag {
	out := make([]types.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return out
}

// ActivationOptions are the inputs of CreateActivation.
type ActivationOptions struct {
	// IAMRole is the service role the registered nodes get: a role name, a path and
	// name ("service-role/SSMHybrid") or the role's ARN. It must trust ssm.amazonaws.com.
	IAMRole string
	// Region is where the activation and the nodes registered with it live.
	Region string
	// RegistrationLimit is how many nodes may register (1-1000); 0 means 1.
	RegistrationLimit int
	// Expires is when the activation expires, at most 30 days ahead; zero means 24 h.
	Expires time.Time
	// InstanceName is the default name of the registered nodes (optional).
	InstanceName string
	// Description is shown in the console and by ListActivations (optional).
	Description string
	// Tags are put on the activation and on the nodes registered with it.
	Tags []Tag
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Activation is a new activation. Code is shown by AWS only once: whoever gets it can
// register nodes with the activation's role until it expires.
type Activation struct {
	ID      string    `json:"activation_id"`
	Code    string    `json:"-"`
	Expires time.Time `json:"expires"`
	Region  string    `json:"region"`
}

// roleName turns an IAM role ARN into the path and name CreateActivation wants, and
// checks the name. "arn:aws:iam::123456789012:role/service-role/X" -> "service-role/X".
func roleName(role string) (string, error) {
	role = strings.TrimSpace(role)
	if strings.HasPrefix(role, "arn:") {
		_, after, ok := strings.Cut(role, ":role/")
		if !ok || after == "" {
			return "", fail.Usagef("--iam-role %q is an ARN but not of an IAM role (want arn:aws:iam::ACCOUNT:role/NAME)", role)
		}
		role = after
	}
	name := role[strings.LastIndex(role, "/")+1:]
	if name == "" || len(name) > maxRoleName {
		return "", fail.WithHint(fail.Usagef("IAM role %q: the role name must be 1 to %d characters", role, maxRoleName),
			"pass --iam-role with the name of a role that trusts ssm.amazonaws.com, e.g. --iam-role SSMServiceRole")
	}
	return role, nil
}

// validate checks every limit before anything is sent, and fills in the defaults.
func (o *ActivationOptions) validate() (role string, limit int32, expires time.Time, err error) {
	role, err = roleName(o.IAMRole)
	if err != nil {
		return "", 0, time.Time{}, err
	}
	n := o.RegistrationLimit
	if n == 0 {
		n = MinRegistrationLimit
	}
	if n < MinRegistrationLimit || n > MaxRegistrationLimit {
		return "", 0, time.Time{}, fail.Usagef("registration limit %d is out of range: AWS allows %d to %d nodes per activation", o.RegistrationLimit, MinRegistrationLimit, MaxRegistrationLimit)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	expires = o.Expires
	if expires.IsZero() {
		expires = t.Add(DefaultExpiry)
	}
	switch {
	case !expires.After(t):
		return "", 0, time.Time{}, fail.Usagef("expiry %s is not in the future", expires.UTC().Format(time.RFC3339))
	case expires.Sub(t) > MaxExpiry:
		return "", 0, time.Time{}, fail.WithHint(fail.Usagef("expiry %s is more than 30 days ahead: AWS allows at most 30 days", expires.UTC().Format(time.RFC3339)),
			"pass --expires 720h or less, or a date within 30 days")
	}
	if utf8.RuneCountInString(o.InstanceName) > maxInstanceName {
		return "", 0, time.Time{}, fail.Usagef("instance name is %d characters long: AWS allows at most %d", utf8.RuneCountInString(o.InstanceName), maxInstanceName)
	}
	if err := validateTags(o.Tags); err != nil {
		return "", 0, time.Time{}, err
	}
	return role, int32(n), expires, nil
}

// createActivationPermissions are what CreateActivation needs: the call itself, and
// passing the service role to SSM.
var createActivationPermissions = []string{"ssm:CreateActivation", "iam:PassRole"}

// CreateActivation creates a hybrid activation. Every limit is checked before the
// request, as a fail.Usage error naming the value; AWS's refusals come back in plain
// words as fail.Registration errors.
func CreateActivation(ctx context.Context, o ActivationOptions) (Activation, error) {
	role, limit, expires, err := o.validate()
	if err != nil {
		return Activation{}, err
	}
	client, err := newClient(ctx, o.Region)
	if err != nil {
		return Activation{}, err
	}
	in := &ssm.CreateActivationInput{
		IamRole:           aws.String(role),
		RegistrationLimit: aws.Int32(limit),
		ExpirationDate:    aws.Time(expires.UTC()),
	}
	if o.InstanceName != "" {
		in.DefaultInstanceName = aws.String(o.InstanceName)
	}
	if o.Description != "" {
		in.Description = aws.String(o.Description)
	}
	if len(o.Tags) > 0 {
		in.Tags = sdkTags(o.Tags)
	}
	out, err := client.CreateActivation(ctx, in)
	if err != nil {
		return Activation{}, apiError("create activation", o.Region, createActivationPermissions, err)
	}
	a := Activation{ID: aws.ToString(out.ActivationId), Code: aws.ToString(out.ActivationCode), Expires: expires.UTC(), Region: o.Region}
	if a.ID == "" || a.Code == "" {
		return Activation{}, fail.New(fail.Registration, "create activation: AWS answered without an activation id or code")
	}
	return a, nil
}

// ActivationInfo describes an existing activation (never its code: AWS shows it once).
type ActivationInfo struct {
	ID                 string    `json:"activation_id"`
	Description        string    `json:"description"`
	IAMRole            string    `json:"iam_role"`
	InstanceName       string    `json:"default_instance_name"`
	RegistrationLimit  int       `json:"registration_limit"`
	RegistrationsCount int       `json:"registrations_count"`
	Created            time.Time `json:"created"`
	Expires            time.Time `json:"expires"`
	Expired            bool      `json:"expired"`
	Tags               []Tag     `json:"tags"`
}

// ListActivations lists the activations of region (DescribeActivations, every page).
func ListActivations(ctx context.Context, region string) ([]ActivationInfo, error) {
	client, err := newClient(ctx, region)
	if err != nil {
		return nil, err
	}
	list := []ActivationInfo{}
	pages := ssm.NewDescribeActivationsPaginator(client, &ssm.DescribeActivationsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, apiError("list activations", region, []string{"ssm:DescribeActivations"}, err)
		}
		for _, a := range page.ActivationList {
			info := ActivationInfo{
				ID:                 aws.ToString(a.ActivationId),
				Description:        aws.ToString(a.Description),
				IAMRole:            aws.ToString(a.IamRole),
				InstanceName:       aws.ToString(a.DefaultInstanceName),
				RegistrationLimit:  int(aws.ToInt32(a.RegistrationLimit)),
				RegistrationsCount: int(aws.ToInt32(a.RegistrationsCount)),
				Created:            aws.ToTime(a.CreatedDate).UTC(),
				Expires:            aws.ToTime(a.ExpirationDate).UTC(),
				Expired:            a.Expired,
				Tags:               []Tag{},
			}
			for _, t := range a.Tags {
				info.Tags = append(info.Tags, Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
			}
			list = append(list, info)
		}
	}
	return list, nil
}

// DeleteActivation deletes activation id in region. Nodes already registered with it
// stay registered; no new node can register with it.
func DeleteActivation(ctx context.Context, region, id string) error {
	if err := ValidateActivationID(id); err != nil {
		return err
	}
	client, err := newClient(ctx, region)
	if err != nil {
		return err
	}
	if _, err := client.DeleteActivation(ctx, &ssm.DeleteActivationInput{ActivationId: aws.String(id)}); err != nil {
		return apiError(fmt.Sprintf("delete activation %s", id), region, []string{"ssm:DeleteActivation"}, err)
	}
	return nil
}
