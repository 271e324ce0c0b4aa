import type { TransactionOperation } from '../types.js';
import { deleteItem, isRecord, saveItem, stringMap } from './items.js';
import { readJson, type StateCall } from './request.js';
import { bad, sendEmpty } from './respond.js';

/**
 * POST /v1.0/state/{store}/transaction with `{operations: [{operation, request}], metadata?}`:
 * every operation is checked before any is applied, then all apply atomically; 204.
 */
export async function transactState(call: StateCall): Promise<void> {
  const body = await readJson(call);
  if (!isRecord(body) || !Array.isArray(body.operations))
    throw bad('the body of a transaction must be {"operations": [...]}');
  const ops: TransactionOperation[] = body.operations.map((o: unknown, i) => {
    if (!isRecord(o)) throw bad(`operations[${i}] must be an object`);
    if (o.operation === 'upsert')
      return {
        operation: 'upsert',
        request: saveItem(o.request, `operations[${i}].request`, undefined),
      };
    if (o.operation === 'delete')
      return { operation: 'delete', request: deleteItem(o.request, `operations[${i}].request`) };
    throw bad(`operations[${i}].operation must be "upsert" or "delete"`);
  });
  await call.store.transaction(ops, stringMap(body.metadata, 'metadata'));
  sendEmpty(call.res, 204);
}
