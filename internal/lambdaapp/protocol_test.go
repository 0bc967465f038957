package lambdaapp

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/cognitrail/cognitrail/internal/ledgertable"
)

func jsonProtocol() smithyhttp.ClientProtocol {
	return awsjson.New10(schemas.GraniteServiceVersion20100801)
}

type awsConfig = aws.Config

func createTable(ctx context.Context, name string) error {
	return ledgertable.Create(ctx, dynamodb.NewFromConfig(server.AWSConfig()), name)
}
