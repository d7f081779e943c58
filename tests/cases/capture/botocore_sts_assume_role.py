"""botocore's signed STS AssumeRole request for fixed inputs (fixed clock)."""
import datetime, json, sys
from unittest import mock
import botocore.session, botocore.auth
from botocore.awsrequest import AWSResponse

def capture(region, role_arn, session_name, key, secret, token, duration, external_id, now, endpoint_url=None):
    s = botocore.session.get_session()
    client = s.create_client('sts', region_name=region, aws_access_key_id=key,
                             aws_secret_access_key=secret, aws_session_token=token,
                             endpoint_url=endpoint_url)
    seen = {}
    def before_send(request, **kw):
        seen['r'] = request
        return AWSResponse(request.url, 400, {}, None)
    client.meta.events.register('before-send', before_send)
    fixed = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).replace(tzinfo=None)
    # The order botocore's assume-role credential provider builds them in
    # (its query serializer keeps the input order).
    params = {'RoleSessionName': session_name}
    if external_id is not None: params['ExternalId'] = external_id
    if duration is not None: params['DurationSeconds'] = duration
    params['RoleArn'] = role_arn
    with mock.patch.object(botocore.auth, 'get_current_datetime', return_value=fixed):
        try:
            client.assume_role(**params)
        except Exception:
            pass
    r = seen['r']
    skip = {'user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'content-length'}
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in r.headers.items() if k.lower() not in skip]
    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    return {'method': r.method, 'url': r.url, 'headers': headers, 'body': body}

if __name__ == '__main__':
    args = json.loads(sys.argv[1])
    print(json.dumps(capture(**args), indent=1))
