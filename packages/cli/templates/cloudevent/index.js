// A CloudEvent function: each event (binary ce-* headers or structured JSON) arrives as one object;
// the return value is the response.
export function onEvent(event) {
  console.log(`event ${event.id} of type ${event.type} from ${event.source}`);
  const name = typeof event.data?.name === 'string' ? event.data.name : 'world';
  return { id: event.id, type: event.type, greeting: `Hello, ${name}!` };
}
