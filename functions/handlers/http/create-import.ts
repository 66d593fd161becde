import { createImportSchema, IMPORT_MEDIA_TYPES } from '../../domain/import-schemas';
import { ValidationError } from '../../domain/errors';
import { imports } from '../../composition/imports';
import { taskQueues } from '../../composition/task-composition';
import { httpHandler } from '../../http/http';
import { bodyOf } from '../../http/body';

const TEXT_TYPES = Object.keys(IMPORT_MEDIA_TYPES);

/**
 * `POST /v2/imports`: with a JSON body, a new import awaiting its file and the URL to PUT it to; with the
 * file itself as the body (text/csv, application/x-ndjson), an import started at once.
 */
export const handler = httpHandler(
  { accepts: ['application/json', ...TEXT_TYPES], textTypes: TEXT_TYPES },
  async (request) => {
    const service = imports(taskQueues);
    const format = IMPORT_MEDIA_TYPES[request.mediaType as keyof typeof IMPORT_MEDIA_TYPES];
    if (format) {
      const update = request.query.get('update');
      if (update !== null && update !== 'true' && update !== 'false')
        throw new ValidationError('invalid query', [{ field: 'update', problem: 'must be true or false' }]);
      const started = await service.createWith(format, update === 'true', Buffer.from(request.body as string, 'utf8'));
      return { statusCode: 202, body: started, headers: { location: `/v2/imports/${started.id}` } };
    }
    const { format: chosen, update } = bodyOf(request, createImportSchema);
    const created = await service.create(chosen, update ?? false);
    return { statusCode: 201, body: created, headers: { location: `/v2/imports/${created.import.id}` } };
  },
);
