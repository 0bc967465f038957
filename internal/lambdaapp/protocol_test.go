package lambdaapp

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
)

func jsonProtocol() smithyhttp.ClientProtocol {
	return awsjson.New10(schemas.GraniteServiceVersion20100801)
}

type awsConfig = aws.Config
