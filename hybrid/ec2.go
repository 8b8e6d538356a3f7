// Package hybrid gives the agent its identity: it detects EC2 instances through instance
// metadata (IMDSv2), creates and manages hybrid activations through the SSM API, registers
// and re-registers a node with the agent (backing up the old identity first) and
// deregisters it.
package hybrid

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/ssm-setup/ssm-setup/internal/awslog"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// EC2Budget is the total time EC2 detection may take on a machine that is not EC2.
const EC2Budget = time.Second

// EC2Instance is what instance metadata says about this machine.
type EC2Instance struct {
	InstanceID      string `json:"instance_id"`
	Region          string `json:"region"`
	InstanceProfile string `json:"instance_profile"` // ARN, or empty when none is attached
}

// DetectEC2 asks instance metadata (IMDSv2, through the SDK's imds client, which honours
// AWS_EC2_METADATA_SERVICE_ENDPOINT and AWS_EC2_METADATA_DISABLED) who this machine is.
// It returns nil, nil on machines that are not EC2, within EC2Budget.
func DetectEC2(ctx context.Context, logger *slog.Logger) (*EC2Instance, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, EC2Budget)
	defer cancel()
	client := imds.New(imdsOptions(logger))
	doc, err := client.GetInstanceIdentityDocument(ctx, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		logger.Debug("instance metadata not reachable: not EC2", "error", err)
		return nil, nil
	}
	inst := &EC2Instance{InstanceID: doc.InstanceID, Region: doc.Region}
	out, err := client.GetMetadata(ctx, &imds.GetMetadataInput{Path: "iam/info"})
	if err == nil {
		defer out.Content.Close()
		var info struct {
			InstanceProfileArn string `json:"InstanceProfileArn"`
		}
		data, rerr := io.ReadAll(io.LimitReader(out.Content, 64<<10))
		if rerr == nil && json.Unmarshal(data, &info) == nil {
			inst.InstanceProfile = info.InstanceProfileArn
		}
	} else if !isNotFound(err) {
		logger.Debug("instance metadata iam/info", "error", err)
	}
	return inst, nil
}

// isNotFound reports an HTTP 404 from instance metadata (no instance profile attached).
func isNotFound(err error) bool {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode() == 404
	}
	return strings.Contains(err.Error(), "404")
}

// imdsOptions configure the instance metadata client: one quick try, IMDSv2 only, the
// SDK's log at debug level, and no proxy.
func imdsOptions(logger *slog.Logger) imds.Options {
	return imds.Options{
		// One quick try each: a non-EC2 machine must not wait for retries.
		Retryer: aws.NopRetryer{},
		// IMDSv2 only: a token is required, no silent fallback to IMDSv1.
		EnableFallback: aws.FalseTernary,
		Logger:         awslog.New(logger),
		// Instance metadata is link-local: never through a proxy, even when the
		// caller's HTTP_PROXY has no no_proxy entry for 169.254.169.254 (a proxy would
		// answer for itself, or not at all, and the instance would look like no EC2).
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.Proxy = nil }),
	}
}
