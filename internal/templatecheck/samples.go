package templatecheck

// SampleParameters are values for parameters whose default is "off" or empty, so the
// scenarios also cover the branches they switch on (Scenarios(SampleParameters)
// is what the template checks and the bootstrap test run over).
var SampleParameters = map[string]string{
	"ExistingTrailBucketName":          "example-trail-bucket",
	"TrailKeyPrefix":                   "org/trails",
	"ExpectedBucketOwner":              "210987654321",
	"KmsKeyArn":                        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	"ReservedConcurrency":              "10",
	"MaxUncompressedBytes":             "1073741824",
	"MaxRecordBytes":                   "33554432",
	"AlarmEmail":                       "security@example.com",
	"AthenaTrailRegions":               "us-east-1,eu-west-1",
	"Namespace":                        "Custom/Cognito", // catches a hard-coded namespace anywhere
	"UnauthenticatedRoleCallThreshold": "5",
	"ClientPools":                      "1example23456789=us-east-1_EXAMPLE,web+2=eu-west-1_Ab12",
	"OrganizationId":                   "o-a1b2c3d4e5",
	"FindingsTopicArn":                 "arn:aws:sns:us-east-1:123456789012:security-findings",
	"NotifyEmail":                      "soc@example.com",
	"PostureSchedule":                  "rate(1 day)",
	"AttackWindows":                    "window=10m,sprayUsers=8",
}
