// A CloudEvent function written for Google's functions framework: runs unchanged under Sprout.
//   npx sprout run examples/cloudevent
//   curl localhost:8080 -H 'ce-specversion: 1.0' -H 'ce-id: 1' -H 'ce-source: /shop' \
//        -H 'ce-type: order.created' -H 'content-type: application/json' -d '{"id":7}'
import * as functions from '@google-cloud/functions-framework';

functions.cloudEvent('onOrder', (event) => ({ received: event.id, type: event.type, order: event.data }));
