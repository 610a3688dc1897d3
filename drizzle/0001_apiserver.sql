CREATE TABLE "apiserver_changes" (
	"resource_version" bigint PRIMARY KEY NOT NULL,
	"resource" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"object" jsonb NOT NULL,
	"prev_object" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "apiserver_objects" (
	"resource" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"uid" uuid NOT NULL,
	"resource_version" bigint NOT NULL,
	"object" jsonb NOT NULL,
	CONSTRAINT "apiserver_objects_resource_namespace_name_pk" PRIMARY KEY("resource","namespace","name")
);
--> statement-breakpoint
CREATE TABLE "apiserver_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"resource_version" bigint NOT NULL,
	"compacted_resource_version" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "apiserver_changes_resource_idx" ON "apiserver_changes" USING btree ("resource","resource_version");--> statement-breakpoint
CREATE INDEX "apiserver_changes_created_idx" ON "apiserver_changes" USING btree ("created_at");