package hybrid

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestCreateActivationRequest(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{
		"CreateActivation": {{Body: `{"ActivationId":"4f1e8c2a-1b2c-4d5e-8f90-123456789abc","ActivationCode":"CODEabc123456789xyz0"}`}},
	})
	got, err := CreateActivation(context.Background(), ActivationOptions{
		IAMRole:           "arn:aws:iam::123456789012:role/service-role/SSMHybrid",
		Region:            "eu-west-1",
		RegistrationLimit: 5,
		Expires:           testNow.Add(48 * time.Hour),
		InstanceName:      "web",
		Tags:              []Tag{{"Env", "prod"}, {"Team", "ops"}},
		Now:               func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("CreateActivation: %v", err)
	}
	want := Activation{ID: "4f1e8c2a-1b2c-4d5e-8f90-123456789abc", Code: "CODEabc123456789xyz0", Expires: testNow.Add(48 * time.Hour), Region: "eu-west-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("activation (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	if reqs[0].Target != "AmazonSSM.CreateActivation" {
		t.Errorf("got target %q, want AmazonSSM.CreateActivation", reqs[0].Target)
	}
	wantBody := map[string]any{
		"IamRole":             "service-role/SSMHybrid",
		"RegistrationLimit":   float64(5),
		"ExpirationDate":      float64(testNow.Add(48 * time.Hour).Unix()),
		"DefaultInstanceName": "web",
		"Tags":                []any{map[string]any{"Key": "Env", "Value": "prod"}, map[string]any{"Key": "Team", "Value": "ops"}},
	}
	if diff := cmp.Diff(wantBody, reqs[0].Body); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

func TestCreateActivationDefaults(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{
		"CreateActivation": {{Body: `{"ActivationId":"4f1e8c2a-1b2c-4d5e-8f90-123456789abc","ActivationCode":"c"}`}},
	})
	got, err := CreateActivation(context.Background(), ActivationOptions{IAMRole: "SSMRole", Region: "us-east-1", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("CreateActivation: %v", err)
	}
	if want := testNow.Add(24 * time.Hour); !got.Expires.Equal(want) {
		t.Errorf("got expiry %v, want %v", got.Expires, want)
	}
	body := srv.requests()[0].Body
	if got, want := body["RegistrationLimit"], float64(1); got != want {
		t.Errorf("got RegistrationLimit %v, want %v", got, want)
	}
	if got, want := body["ExpirationDate"], float64(testNow.Add(24*time.Hour).Unix()); got != want {
		t.Errorf("got ExpirationDate %v, want %v", got, want)
	}
	for _, k := range []string{"DefaultInstanceName", "Tags", "Description"} {
		if _, ok := body[k]; ok {
			t.Errorf("request has %s, want it absent", k)
		}
	}
}

func TestCreateActivationLimitsRefusedBeforeRequest(t *testing.T) {
	tests := []struct {
		name    string
		opts    ActivationOptions
		wantErr string
	}{
		{"limit zero+1 over", ActivationOptions{IAMRole: "R", Region: "us-east-1", RegistrationLimit: 1001}, "registration limit 1001 is out of range"},
		{"negative limit", ActivationOptions{IAMRole: "R", Region: "us-east-1", RegistrationLimit: -1}, "registration limit -1 is out of range"},
		{"expiry past", ActivationOptions{IAMRole: "R", Region: "us-east-1", Expires: testNow.Add(-time.Minute)}, "expiry 2026-03-01T11:59:00Z is not in the future"},
		{"expiry over 30 days", ActivationOptions{IAMRole: "R", Region: "us-east-1", Expires: testNow.Add(30*24*time.Hour + time.Second)}, "is more than 30 days ahead"},
		{"no role", ActivationOptions{Region: "us-east-1"}, "the role name must be 1 to 64 characters"},
		{"role name too long", ActivationOptions{IAMRole: strings.Repeat("r", 65), Region: "us-east-1"}, "the role name must be 1 to 64"},
		{"not a role ARN", ActivationOptions{IAMRole: "arn:aws:iam::1:user/bob", Region: "us-east-1"}, "is an ARN but not of an IAM role"},
		{"bad region", ActivationOptions{IAMRole: "R", Region: "us-east-1a"}, "is an Availability Zone"},
		{"long instance name", ActivationOptions{IAMRole: "R", Region: "us-east-1", InstanceName: strings.Repeat("n", 257)}, "instance name is 257 characters long"},
		{"reserved tag", ActivationOptions{IAMRole: "R", Region: "us-east-1", Tags: []Tag{{"aws:x", "1"}}}, "reserved by AWS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeSSM(t, nil)
			tt.opts.Now = func() time.Time { return testNow }
			_, err := CreateActivation(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if got := fail.KindOf(err); got != fail.Usage {
				t.Errorf("got kind %v, want usage", got)
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("got %d requests, want none", n)
			}
		})
	}
}

func TestCreateActivationMaxLimitsAccepted(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{
		"CreateActivation": {{Body: `{"ActivationId":"4f1e8c2a-1b2c-4d5e-8f90-123456789abc","ActivationCode":"c"}`}},
	})
	_, err := CreateActivation(context.Background(), ActivationOptions{IAMRole: "R", Region: "us-east-1", RegistrationLimit: 1000, Expires: testNow.Add(MaxExpiry), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("CreateActivation at the limits: %v", err)
	}
	if got := srv.requests()[0].Body["RegistrationLimit"]; got != float64(1000) {
		t.Errorf("got RegistrationLimit %v, want 1000", got)
	}
}

func TestCreateActivationAWSErrors(t *testing.T) {
	tests := []struct {
		name     string
		reply    ssmReply
		wantErr  []string
		wantHint string
	}{
		{"access denied", ssmReply{400, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::1:user/bob is not authorized to perform: iam:PassRole"}`},
			[]string{"access denied", "ssm:CreateActivation and iam:PassRole", "not authorized"}, "grant ssm:CreateActivation and iam:PassRole"},
		{"bad role", ssmReply{400, `{"__type":"InvalidParameters","message":"Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::1:role/R"}`},
			[]string{"AWS rejected the parameters", "Nonexistent role"}, "trust ssm.amazonaws.com"},
		{"expired token", ssmReply{400, `{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}`},
			[]string{"does not accept the credentials (ExpiredTokenException)"}, "refresh the credentials"},
		{"clock skew", ssmReply{400, `{"__type":"InvalidSignatureException","message":"Signature expired"}`},
			[]string{"rejected the request signature"}, "clock"},
		{"other", ssmReply{400, `{"__type":"SomethingNew","message":"odd"}`},
			[]string{"AWS said SomethingNew: odd"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newFakeSSM(t, map[string][]ssmReply{"CreateActivation": {tt.reply}})
			_, err := CreateActivation(context.Background(), ActivationOptions{IAMRole: "R", Region: "us-east-1"})
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
			if got := fail.KindOf(err); got != fail.Registration {
				t.Errorf("got kind %v, want registration", got)
			}
			if got := fail.HintOf(err); !strings.Contains(got, tt.wantHint) {
				t.Errorf("got hint %q, want it to contain %q", got, tt.wantHint)
			}
		})
	}
}

func TestCreateActivationNoCredentials(t *testing.T) {
	awsEnv(t, false)
	t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
	_, err := CreateActivation(context.Background(), ActivationOptions{IAMRole: "R", Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("got error %v, want 'no AWS credentials'", err)
	}
	if got := fail.HintOf(err); !strings.Contains(got, "ssm:CreateActivation and iam:PassRole") {
		t.Errorf("got hint %q, want the permissions named", got)
	}
}

func TestCreateActivationUnreachable(t *testing.T) {
	awsEnv(t, true)
	t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
	_, err := CreateActivation(context.Background(), ActivationOptions{IAMRole: "R", Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the SSM endpoint of us-east-1") {
		t.Fatalf("got error %v, want 'cannot reach the SSM endpoint'", err)
	}
}

func TestListActivationsPages(t *testing.T) {
	srv := newFakeSSM(t, map[string][]ssmReply{
		"DescribeActivations": {
			{Body: `{"ActivationList":[{"ActivationId":"a1","Description":"d","IamRole":"R","DefaultInstanceName":"web","RegistrationLimit":5,"RegistrationsCount":2,"CreatedDate":1772366400,"ExpirationDate":1772452800,"Expired":false,"Tags":[{"Key":"Env","Value":"prod"}]}],"NextToken":"page2"}`},
			{Body: `{"ActivationList":[{"ActivationId":"a2","IamRole":"R","RegistrationLimit":1,"RegistrationsCount":1,"CreatedDate":1772366400,"ExpirationDate":1772366400,"Expired":true}]}`},
		},
	})
	got, err := ListActivations(context.Background(), "us-east-1")
	if err != nil {
		t.Fatalf("ListActivations: %v", err)
	}
	want := []ActivationInfo{
		{ID: "a1", Description: "d", IAMRole: "R", InstanceName: "web", RegistrationLimit: 5, RegistrationsCount: 2, Created: time.Unix(1772366400, 0).UTC(), Expires: time.Unix(1772452800, 0).UTC(), Tags: []Tag{{"Env", "prod"}}},
		{ID: "a2", IAMRole: "R", RegistrationLimit: 1, RegistrationsCount: 1, Created: time.Unix(1772366400, 0).UTC(), Expires: time.Unix(1772366400, 0).UTC(), Expired: true, Tags: []Tag{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("activations (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[1].Body["NextToken"] != "page2" {
		t.Errorf("got requests %+v, want two with the second asking for page2", reqs)
	}
	for _, r := range reqs {
		if r.Target != "AmazonSSM.DescribeActivations" {
			t.Errorf("got target %q, want AmazonSSM.DescribeActivations", r.Target)
		}
	}
}

func TestDeleteActivation(t *testing.T) {
	const id = "4f1e8c2a-1b2c-4d5e-8f90-123456789abc"
	tests := []struct {
		name     string
		id       string
		reply    []ssmReply
		wantKind fail.Kind // 0: no error
		wantErr  string
		wantReqs int
	}{
		{"deleted", id, []ssmReply{{Body: `{}`}}, 0, "", 1},
		{"not found", id, []ssmReply{{400, `{"__type":"InvalidActivation","message":"Activation ID not found"}`}}, fail.Registration, "no such activation in us-east-1", 1},
		{"denied", id, []ssmReply{{400, `{"__type":"AccessDeniedException","message":"no"}`}}, fail.Registration, "lack permission ssm:DeleteActivation", 1},
		{"bad id", "nope", nil, fail.Usage, `activation id "nope" is not a UUID`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeSSM(t, map[string][]ssmReply{"DeleteActivation": tt.reply})
			err := DeleteActivation(context.Background(), "us-east-1", tt.id)
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("DeleteActivation: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if got := fail.KindOf(err); got != tt.wantKind {
					t.Errorf("got kind %v, want %v", got, tt.wantKind)
				}
			}
			reqs := srv.requests()
			if len(reqs) != tt.wantReqs {
				t.Fatalf("got %d requests, want %d", len(reqs), tt.wantReqs)
			}
			if tt.wantReqs > 0 {
				if diff := cmp.Diff(ssmRequest{Target: "AmazonSSM.DeleteActivation", Body: map[string]any{"ActivationId": id}}, reqs[0]); diff != "" {
					t.Errorf("request (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		name    string
		items   []string
		want    []Tag
		wantErr string
	}{
		{"list and repeats", []string{"Env=prod,Team=ops", "Owner = me "}, []Tag{{"Env", "prod"}, {"Team", "ops"}, {"Owner", "me"}}, ""},
		{"empty value", []string{"Flag="}, []Tag{{"Flag", ""}}, ""},
		{"none", nil, nil, ""},
		{"no equals", []string{"Env"}, nil, `tag "Env" has no '='`},
		{"empty key", []string{"=v"}, nil, "the key must be 1 to 128"},
		{"duplicate", []string{"a=1", "a=2"}, nil, `tag key "a" given twice`},
		{"reserved", []string{"AWS:x=1"}, nil, "reserved by AWS"},
		{"long value", []string{"k=" + strings.Repeat("v", 257)}, nil, "at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTags(tt.items)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if fail.KindOf(err) != fail.Usage {
					t.Errorf("got kind %v, want usage", fail.KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTags: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTagManagedInstance(t *testing.T) {
	const mi = "mi-0123456789abcdef0"
	tags := []Tag{{"Env", "prod"}}
	t.Run("tagged", func(t *testing.T) {
		srv := newFakeSSM(t, map[string][]ssmReply{"AddTagsToResource": {{Body: `{}`}}})
		ok, err := TagManagedInstance(context.Background(), "us-east-1", mi, tags, nil)
		if err != nil || !ok {
			t.Fatalf("got %v, %v; want true, nil", ok, err)
		}
		want := []ssmRequest{{Target: "AmazonSSM.AddTagsToResource", Body: map[string]any{
			"ResourceType": "ManagedInstance", "ResourceId": mi,
			"Tags": []any{map[string]any{"Key": "Env", "Value": "prod"}},
		}}}
		if diff := cmp.Diff(want, srv.requests()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})
	t.Run("access denied is a note", func(t *testing.T) {
		newFakeSSM(t, map[string][]ssmReply{"AddTagsToResource": {{400, `{"__type":"AccessDeniedException","message":"no"}`}}})
		log, buf := captureLog()
		ok, err := TagManagedInstance(context.Background(), "us-east-1", mi, tags, log)
		if err != nil || ok {
			t.Fatalf("got %v, %v; want false, nil", ok, err)
		}
		if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "ssm:AddTagsToResource") || !strings.Contains(out, "--resource-id "+mi) {
			t.Errorf("got log %q, want a warning naming the permission and the command to tag later", out)
		}
	})
	t.Run("no credentials is a note", func(t *testing.T) {
		awsEnv(t, false)
		t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
		log, buf := captureLog()
		ok, err := TagManagedInstance(context.Background(), "us-east-1", mi, tags, log)
		if err != nil || ok {
			t.Fatalf("got %v, %v; want false, nil", ok, err)
		}
		if out := buf.String(); !strings.Contains(out, "no AWS credentials") {
			t.Errorf("got log %q, want a note about missing credentials", out)
		}
	})
	t.Run("other errors fail", func(t *testing.T) {
		newFakeSSM(t, map[string][]ssmReply{"AddTagsToResource": {{400, `{"__type":"InvalidResourceId","message":"no such node"}`}}})
		_, err := TagManagedInstance(context.Background(), "us-east-1", mi, tags, nil)
		if err == nil || fail.KindOf(err) != fail.Registration {
			t.Fatalf("got %v, want a registration error", err)
		}
	})
	t.Run("no tags, no request", func(t *testing.T) {
		srv := newFakeSSM(t, nil)
		ok, err := TagManagedInstance(context.Background(), "us-east-1", mi, nil, nil)
		if err != nil || ok || len(srv.requests()) != 0 {
			t.Fatalf("got %v, %v, %d requests; want false, nil, none", ok, err, len(srv.requests()))
		}
	})
}
