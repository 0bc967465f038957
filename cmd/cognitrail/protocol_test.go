package main

import (
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

func setQuery(o *cw.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) }
