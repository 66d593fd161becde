/**
 * The server-side import's bucket (docs/api.md, Server-side import): clients PUT a file through a
 * presigned URL that `POST /v2/imports` signs, and the job worker reads it piece by piece. The import
 * routes may write and read `imports/*`; the worker may only read.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type DeploymentConfig, toRemovalPolicy } from '../config';
import { acknowledgeGuard } from '../validation';
import type { ServiceFunction } from './service-function';

/** Uploaded files are kept this long: an import reads its file within hours; a resume within days. */
export const IMPORT_FILE_DAYS = 7;

export interface ImportFilesProps {
  readonly config: DeploymentConfig;
  /**
   * The routes that create and start imports (presign uploads, read the file's head); they send the
   * plan task as every route that starts background work does (`sendsTasks` in the route table).
   */
  readonly routes: readonly ServiceFunction[];
  /** The job worker (reads pieces of the file). */
  readonly worker: ServiceFunction;
}

export class ImportFiles extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ImportFilesProps) {
    super(scope, id);
    const { config, routes, worker } = props;
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: toRemovalPolicy(config.removalPolicy),
      lifecycleRules: [
        { expiration: Duration.days(IMPORT_FILE_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    const transient =
      `Import files are transient inputs: each is read by its import ` +
      `and deleted by the lifecycle rule after ${IMPORT_FILE_DAYS} days; ` +
      `what an import did is recorded in the table and its events`;
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: `${transient}. Who started each import is in the API's access log.`,
    });
    acknowledgeGuard(this.bucket, {
      s3_bucket_default_encryption_kms_check: `${transient}: SSE-S3 encrypts them at rest.`,
      s3_bucket_versioning_enabled_check: `${transient}: an import never rewrites its file.`,
      s3_bucket_logging_enabled_check: `${transient}: the API's access log records who started each import.`,
      s3_event_notifications_enabled_check: `${transient}: an import starts by its API call, not on upload.`,
      s3_bucket_object_lock_enabled_check: `${transient}: the lifecycle rule must delete them.`,
    });

    const objects = this.bucket.arnForObjects('imports/*');
    const environment = { IMPORT_BUCKET: this.bucket.bucketName };
    for (const fn of routes) {
      // PutObject: the presigned upload URL is signed with the route's role, and a small file given as
      // the request body is stored by the route itself; GetObject: `start` checks the file is there.
      Grant.addToPrincipal({ grantee: fn.role, actions: ['s3:PutObject', 's3:GetObject'], resourceArns: [objects] });
      for (const [key, value] of Object.entries(environment)) fn.function.addEnvironment(key, value);
    }
    Grant.addToPrincipal({ grantee: worker.role, actions: ['s3:GetObject'], resourceArns: [objects] });
    // ListBucket lets S3 answer NoSuchKey for a file not uploaded yet (409), instead of AccessDenied.
    for (const fn of [...routes, worker])
      Grant.addToPrincipal({ grantee: fn.role, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    worker.function.addEnvironment('IMPORT_BUCKET', this.bucket.bucketName);
    // Acknowledged by its exact id, so any other wildcard would still be reported.
    const bucketId = Stack.of(this).resolve((this.bucket.node.defaultChild as CfnBucket).logicalId) as string;
    for (const fn of [...routes, worker])
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/imports/*]`,
        reason:
          'Each import has its own file, named by its random id when it is created: the objects under ' +
          'imports/ of the stack’s own import bucket, and nothing else of S3.',
      });
  }
}
