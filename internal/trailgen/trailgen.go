package trailgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Options shape a generated file.
type Options struct {
	// Records is the number of records; if zero, Bytes decides.
	Records int
	// Bytes is the approximate uncompressed size to reach.
	Bytes int64
	// CognitoShare is the fraction of Cognito records (default 0.1).
	CognitoShare float64
	// ConfigShare is the fraction of records that are Cognito configuration
	// calls, the records that can yield findings (default 0: only the few
	// the Cognito mix has).
	ConfigShare float64
	Seed        uint64
	// Start is the first eventTime (default 2026-11-20T10:00:00Z).
	Start time.Time
	// Span, when set, spreads the eventTimes evenly from Start to
	// Start+Span (a backfill, a month of activity in one file); zero keeps
	// the default, records cycling through ten minutes.
	Span time.Duration
}

// shape is a record template; %[1]s is the event time, %[2]s the event id,
// %[3]s a source IP, %[4]s a request id, %[5]s filler text that sets the size.
type shape struct {
	weight int
	tmpl   string
	filler int // typical filler length
}

var other = []shape{
	{30, `{"eventVersion":"1.10","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:app","arn":"arn:aws:sts::123456789012:assumed-role/app/app","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/app","accountId":"123456789012","userName":"app"},"attributes":{"creationDate":"2026-11-20T09:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"%[1]s","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"[aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux]","requestParameters":{"bucketName":"amzn-s3-demo-bucket","Host":"amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com","key":"data/%[5]s"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2EXAMPLEid2EXAMPLE=","bytesTransferredOut":5120},"requestID":"%[4]s","eventID":"%[2]s","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::amzn-s3-demo-bucket/data/object"},{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::amzn-s3-demo-bucket"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com"}}`, 200},
	{15, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc","arn":"arn:aws:sts::123456789012:assumed-role/ec2-role/i-0abc","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/ec2-role","accountId":"123456789012","userName":"ec2-role"},"webIdFederationData":{},"attributes":{"creationDate":"2026-11-20T09:00:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"eventTime":"%[1]s","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"aws-cli/2.15.0","requestParameters":{"instancesSet":{},"filterSet":{"items":[{"name":"tag:Name","valueSet":{"items":[{"value":"web"}]}}]}},"responseElements":null,"requestID":"%[4]s","eventID":"%[2]s","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.us-east-1.amazonaws.com"},"sessionCredentialFromConsole":"false","note":"%[5]s"}`, 900},
	{15, `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"lambda.amazonaws.com"},"eventTime":"%[1]s","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"lambda.amazonaws.com","userAgent":"lambda.amazonaws.com","requestParameters":{"roleArn":"arn:aws:iam::123456789012:role/fn-role","roleSessionName":"fn"},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"%[5]s","expiration":"Nov 20, 2026, 11:00:00 PM"}},"requestID":"%[4]s","eventID":"%[2]s","readOnly":true,"resources":[{"accountId":"123456789012","type":"AWS::IAM::Role","ARN":"arn:aws:iam::123456789012:role/fn-role"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","sharedEventID":"%[2]s","eventCategory":"Management"}`, 700},
	{15, `{"eventVersion":"1.09","userIdentity":{"type":"AWSService","invokedBy":"secretsmanager.amazonaws.com"},"eventTime":"%[1]s","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","sourceIPAddress":"secretsmanager.amazonaws.com","userAgent":"secretsmanager.amazonaws.com","requestParameters":{"encryptionContext":{"SecretARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-%[5]s","SecretVersionId":"EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,"requestID":"%[4]s","eventID":"%[2]s","readOnly":true,"resources":[{"accountId":"123456789012","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 400},
	{10, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/ops","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"ops"},"eventTime":"%[1]s","eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionConfiguration20150331v2","awsRegion":"us-west-2","sourceIPAddress":"%[3]s","userAgent":"console.amazonaws.com","requestParameters":{"functionName":"fn","environment":{},"description":"%[5]s"},"responseElements":{"functionName":"fn","functionArn":"arn:aws:lambda:us-west-2:123456789012:function:fn","runtime":"provided.al2023","role":"arn:aws:iam::123456789012:role/fn-role","handler":"bootstrap","codeSize":4096000,"description":"","timeout":30,"memorySize":256,"lastModified":"2026-11-20T10:00:00.000+0000","version":"$LATEST","tracingConfig":{"mode":"PassThrough"},"revisionId":"%[4]s","state":"Active","lastUpdateStatus":"InProgress","packageType":"Zip","architectures":["arm64"],"ephemeralStorage":{"size":512},"snapStart":{"applyOn":"None","optimizationStatus":"Off"},"loggingConfig":{"logFormat":"JSON","applicationLogLevel":"INFO","systemLogLevel":"WARN","logGroup":"/aws/lambda/fn"}},"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 3000},
	{5, `{"eventVersion":"1.03","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"%[1]s","eventSource":"iam.amazonaws.com","eventName":"ListRoles","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"console.amazonaws.com","requestParameters":null,"responseElements":null,"requestID":"%[4]s","eventID":"%[2]s","eventType":"AwsApiCall","recipientAccountId":"123456789012","pad":"%[5]s"}`, 1500},
}

var cognito = []shape{
	{25, `{"eventVersion":"1.08","userIdentity":{"type":"Unknown","principalId":"Anonymous"},"eventTime":"%[1]s","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"Mozilla/5.0 (%[5]s)","errorCode":"NotAuthorizedException","errorMessage":"Incorrect username or password.","requestParameters":{"authFlow":"USER_PASSWORD_AUTH","authParameters":"HIDDEN_DUE_TO_SECURITY_REASONS","clientMetadata":{},"clientId":"1example23456789"},"responseElements":null,"additionalEventData":{"sub":"704b1ef1-0000-4000-8000-00000EXAMPLE","userPoolId":"us-east-1_EXAMPLE1"},"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"cognito-idp.us-east-1.amazonaws.com"}}`, 100},
	{20, `{"eventVersion":"1.09","userIdentity":{"accountId":"123456789012"},"eventTime":"%[1]s","eventSource":"cognito-idp.amazonaws.com","eventName":"Login_GET","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"Mozilla/5.0 (%[5]s)","errorCode":"","errorMessage":"","requestParameters":null,"responseElements":null,"additionalEventData":{"responseParameters":{"status":200.0},"requestParameters":{"redirect_uri":["https://example.com"],"response_type":["code"],"client_id":["1example23456789"]},"userPoolDomain":"example.auth.us-east-1.amazoncognito.com","userPoolId":"us-east-1_EXAMPLE1"},"requestID":"%[4]s","eventID":"%[2]s","readOnly":true,"eventType":"AwsServiceEvent","managementEvent":true,"recipientAccountId":"123456789012","serviceEventDetails":{"serviceAccountId":"111122223333"},"eventCategory":"Management"}`, 100},
	{20, `{"eventVersion":"1.08","userIdentity":{"type":"Unknown","principalId":"Anonymous"},"eventTime":"%[1]s","eventSource":"cognito-identity.amazonaws.com","eventName":"GetCredentialsForIdentity","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"aws-sdk-js/3 (%[5]s)","requestParameters":{"identityId":"us-east-1:2d9c8f1b-0000-4000-8000-000000EXAMPLE","logins":{"cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE1":"HIDDEN_DUE_TO_SECURITY_REASONS"}},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS","expiration":"Nov 20, 2026 11:00:00 AM"},"identityId":"us-east-1:2d9c8f1b-0000-4000-8000-000000EXAMPLE"},"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"resources":[{"accountId":"123456789012","type":"AWS::Cognito::IdentityPool","ARN":"arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data"}`, 100},
	{20, `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:CognitoIdentityCredentials","arn":"arn:aws:sts::123456789012:assumed-role/Cognito_PoolUnauth_Role/CognitoIdentityCredentials","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/Cognito_PoolUnauth_Role","accountId":"123456789012","userName":"Cognito_PoolUnauth_Role"},"webIdFederationData":{"federatedProvider":"cognito-identity.amazonaws.com","attributes":{"cognito-identity.amazonaws.com:amr":"[\"unauthenticated\"]","cognito-identity.amazonaws.com:aud":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","cognito-identity.amazonaws.com:sub":"us-east-1:2d9c8f1b-0000-4000-8000-000000EXAMPLE"}},"attributes":{"creationDate":"2026-11-20T09:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"%[1]s","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"aws-sdk-js/3 (%[5]s)","requestParameters":{"bucketName":"amzn-s3-demo-bucket","key":"public/logo.png"},"responseElements":null,"requestID":"%[4]s","eventID":"%[2]s","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::amzn-s3-demo-bucket/public/logo.png"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data"}`, 100},
	{5, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/admin","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"admin"},"eventTime":"%[1]s","eventSource":"cognito-identity.amazonaws.com","eventName":"UpdateIdentityPool","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"console.amazonaws.com","requestParameters":{"identityPoolId":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","identityPoolName":"pool","allowUnauthenticatedIdentities":true,"description":"%[5]s"},"responseElements":{"identityPoolId":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","identityPoolName":"pool","allowUnauthenticatedIdentities":true},"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 100},
}

// config are configuration calls whose request the findings decode: user
// pool, app client and identity pool updates as AWS's API references shape
// them, restating the whole configuration as the console does.
var config = []shape{
	{30, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:admin","arn":"arn:aws:sts::123456789012:assumed-role/Admin/admin","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE"},"eventTime":"%[1]s","eventSource":"cognito-idp.amazonaws.com","eventName":"UpdateUserPool","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"console.amazonaws.com","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","policies":{"passwordPolicy":{"minimumLength":8,"requireUppercase":true,"requireLowercase":true,"requireNumbers":true,"requireSymbols":true,"temporaryPasswordValidityDays":7}},"deletionProtection":"ACTIVE","lambdaConfig":{"preSignUp":"arn:aws:lambda:us-east-1:123456789012:function:pre-signup","preTokenGenerationConfig":{"lambdaArn":"arn:aws:lambda:us-east-1:123456789012:function:pre-token","lambdaVersion":"V2_0"}},"autoVerifiedAttributes":["email"],"mfaConfiguration":"OPTIONAL","userPoolAddOns":{"advancedSecurityMode":"ENFORCED"},"adminCreateUserConfig":{"allowAdminCreateUserOnly":true},"emailVerificationMessage":"%[5]s"},"responseElements":null,"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 200},
	{30, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:admin","arn":"arn:aws:sts::123456789012:assumed-role/Admin/admin","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE"},"eventTime":"%[1]s","eventSource":"cognito-idp.amazonaws.com","eventName":"UpdateUserPoolClient","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"console.amazonaws.com","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","clientId":"1example23456789","clientName":"web-%[5]s","explicitAuthFlows":["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"allowedOAuthFlows":["code"],"allowedOAuthScopes":["openid","email"],"callbackURLs":["https://app.example.com/callback"],"logoutURLs":["https://app.example.com/"],"supportedIdentityProviders":["COGNITO"]},"responseElements":{"userPoolClient":{"userPoolId":"us-east-1_EXAMPLE1","clientId":"1example23456789","clientSecret":"HIDDEN_DUE_TO_SECURITY_REASONS"}},"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 100},
	{25, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/admin","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"admin"},"eventTime":"%[1]s","eventSource":"cognito-identity.amazonaws.com","eventName":"UpdateIdentityPool","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"console.amazonaws.com","requestParameters":{"identityPoolId":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","identityPoolName":"pool","allowUnauthenticatedIdentities":false,"allowClassicFlow":false,"cognitoIdentityProviders":[{"providerName":"cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE1","clientId":"1example23456789","serverSideTokenCheck":false}],"identityPoolTags":{"note":"%[5]s"}},"responseElements":{"identityPoolId":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","identityPoolName":"pool","allowUnauthenticatedIdentities":false},"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 100},
	{15, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/admin","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"admin"},"eventTime":"%[1]s","eventSource":"cognito-identity.amazonaws.com","eventName":"SetIdentityPoolRoles","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"aws-cli/2.15.0 %[5]s","requestParameters":{"identityPoolId":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","roles":{"authenticated":"arn:aws:iam::123456789012:role/Cognito_PoolAuth_Role"}},"responseElements":null,"requestID":"%[4]s","eventID":"%[2]s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`, 100},
}

func pick(r *rand.Rand, shapes []shape) shape {
	total := 0
	for _, s := range shapes {
		total += s.weight
	}
	n := r.IntN(total)
	for _, s := range shapes {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return shapes[len(shapes)-1]
}

const hex = "0123456789abcdef"

var words = strings.Fields(`prod staging dev app api web worker batch reports invoices users orders
payments assets images thumbnails logs exports imports backups archive tmp cache config secrets
us-east-1 eu-west-1 ap-southeast-2 lambda ecs eks ec2 rds dynamodb s3 sqs sns kinesis glue athena
service role policy function bucket table queue topic stream cluster instance volume snapshot key
alias parameter store customer tenant region account v1 v2 2026 11 20 json csv parquet gz`)

// Write writes one trail file (plain JSON; wrap w in a gzip writer for a
// compressed one) and returns the number of records written.
func Write(w io.Writer, o Options) (int, error) {
	if o.CognitoShare == 0 {
		o.CognitoShare = 0.1
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x636f676e))
	bw := bufio.NewWriterSize(w, 256<<10)
	var written int64
	n, _ := bw.WriteString(`{"Records":[`)
	written += int64(n)
	var filler strings.Builder
	count := 0
	for ; ; count++ {
		if o.Records > 0 && count >= o.Records || o.Records == 0 && written >= o.Bytes {
			break
		}
		if count > 0 {
			bw.WriteByte(',')
			written++
		}
		s := pick(r, other)
		if r.Float64() < o.CognitoShare {
			s = pick(r, cognito)
		}
		// Drawn only when asked for, so files without it stay as they were.
		if o.ConfigShare > 0 && r.Float64() < o.ConfigShare {
			s = pick(r, config)
		}
		filler.Reset()
		for l := s.filler/2 + r.IntN(s.filler+1); filler.Len() < l; {
			// Real trail values are mostly names, paths and ARNs that recur,
			// with some random ids: about as compressible as real files.
			if r.IntN(4) == 0 {
				for range 8 {
					filler.WriteByte(hex[r.IntN(len(hex))])
				}
			} else {
				filler.WriteString(words[r.IntN(len(words))])
			}
			filler.WriteByte('-')
		}
		t := o.Start.Add(time.Duration(count%600) * time.Second).Format(time.RFC3339)
		if o.Span > 0 {
			// By records or by bytes, whichever ends the file.
			done := float64(written) / float64(max(o.Bytes, 1))
			if o.Records > 0 {
				done = float64(count) / float64(o.Records)
			}
			t = o.Start.Add(time.Duration(min(done, 1) * float64(o.Span))).Truncate(time.Second).Format(time.RFC3339)
		}
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
		ip := fmt.Sprintf("198.51.100.%d", r.IntN(254)+1)
		n, err := fmt.Fprintf(bw, s.tmpl, t, id, ip, id, filler.String())
		written += int64(n)
		if err != nil {
			return count, err
		}
	}
	bw.WriteString("]}\n")
	return count, bw.Flush()
}
