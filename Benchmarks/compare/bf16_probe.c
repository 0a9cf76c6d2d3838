// bf16_probe.c: what the frozen-base products of training would gain in bf16 (oneDNN matmul, float32
// accumulation, AMX or AVX-512 BF16 where the CPU has them) against cblas_sgemm, one shape per run.
// Build and run (Debian: apt-get install libdnnl-dev libopenblas-dev):
//   gcc -O2 Benchmarks/compare/bf16_probe.c -o /tmp/bf16_probe -ldnnl -lopenblas
//   for s in "320 1536 576" "320 576 1536" "320 576 576" "320 192 576" "320 49152 576" "2048 576 576" "2048 1536 576"; do
//     OPENBLAS_CORETYPE=SkylakeX OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /tmp/bf16_probe $s; done
// Prints the oneDNN implementation chosen, GFLOP/s of both (x[M,K] . W[N,K]^T, 50 calls, the input
// converted to bf16 in every call, the weights once) and the largest difference of the outputs.
#include <dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <stdint.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CHK(x) do{dnnl_status_t s_=(x); if(s_!=dnnl_success){printf("fail %s: %d\n",#x,s_);exit(1);}}while(0)
int main(int argc,char**argv){
  int M=atoi(argv[1]),N=atoi(argv[2]),K=atoi(argv[3]);
  dnnl_engine_t eng; CHK(dnnl_engine_create(&eng,dnnl_cpu,0));
  dnnl_stream_t st; CHK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  dnnl_memory_desc_t smd,wmd,dmd,wmd_user;
  dnnl_dims_t sd={M,K}, wd={K,N}, dd={M,N};
  CHK(dnnl_memory_desc_init_by_tag(&smd,2,sd,dnnl_bf16,dnnl_ab));
  CHK(dnnl_memory_desc_init_by_tag(&wmd,2,wd,dnnl_bf16,dnnl_format_tag_any));
  CHK(dnnl_memory_desc_init_by_tag(&wmd_user,2,wd,dnnl_f32,dnnl_ba)); // W [N,K] row-major == (K,N) tag ba
  CHK(dnnl_memory_desc_init_by_tag(&dmd,2,dd,dnnl_f32,dnnl_ab));
  dnnl_matmul_desc_t mm; CHK(dnnl_matmul_desc_init(&mm,&smd,&wmd,NULL,&dmd));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd,&mm,NULL,eng,NULL));
  const char*impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl); printf("impl %s\n",impl);
  const dnnl_memory_desc_t*wq=dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
  dnnl_primitive_t prim; CHK(dnnl_primitive_create(&prim,pd));
  float*x=malloc(4L*M*K),*w=malloc(4L*N*K),*y=malloc(4L*M*N),*y2=malloc(4L*M*N);
  for(long i=0;i<(long)M*K;i++)x[i]=(rand()%1000)/1000.0f-0.5f;
  for(long i=0;i<(long)N*K;i++)w[i]=(rand()%1000)/1000.0f-0.5f;
  // weights: f32 [N,K] -> bf16 blocked (once)
  dnnl_memory_t wu,wb; CHK(dnnl_memory_create(&wu,&wmd_user,eng,w)); CHK(dnnl_memory_create(&wb,wq,eng,DNNL_MEMORY_ALLOCATE));
  dnnl_primitive_desc_t rpd; CHK(dnnl_reorder_primitive_desc_create(&rpd,&wmd_user,eng,wq,eng,NULL));
  dnnl_primitive_t rp; CHK(dnnl_primitive_create(&rp,rpd));
  dnnl_exec_arg_t ra[2]={{DNNL_ARG_FROM,wu},{DNNL_ARG_TO,wb}}; CHK(dnnl_primitive_execute(rp,st,2,ra)); dnnl_stream_wait(st);
  // src f32 -> bf16 reorder each call
  dnnl_memory_desc_t sfmd; CHK(dnnl_memory_desc_init_by_tag(&sfmd,2,sd,dnnl_f32,dnnl_ab));
  dnnl_memory_t sf,sb,dm; CHK(dnnl_memory_create(&sf,&sfmd,eng,x)); CHK(dnnl_memory_create(&sb,&smd,eng,DNNL_MEMORY_ALLOCATE)); CHK(dnnl_memory_create(&dm,&dmd,eng,y));
  dnnl_primitive_desc_t spd; CHK(dnnl_reorder_primitive_desc_create(&spd,&sfmd,eng,&smd,eng,NULL)); dnnl_primitive_t sp; CHK(dnnl_primitive_create(&sp,spd));
  dnnl_exec_arg_t sa[2]={{DNNL_ARG_FROM,sf},{DNNL_ARG_TO,sb}};
  dnnl_exec_arg_t ma[3]={{DNNL_ARG_SRC,sb},{DNNL_ARG_WEIGHTS,wb},{DNNL_ARG_DST,dm}};
  int reps=50;
  for(int r=0;r<3;r++){ dnnl_primitive_execute(sp,st,2,sa); dnnl_primitive_execute(prim,st,3,ma);} dnnl_stream_wait(st);
  double t0=now(); for(int r=0;r<reps;r++){ dnnl_primitive_execute(sp,st,2,sa); dnnl_primitive_execute(prim,st,3,ma);} dnnl_stream_wait(st); double t1=now();
  cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,M,N,K,1,x,K,w,K,0,y2,N);
  double t2=now(); for(int r=0;r<reps;r++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,M,N,K,1,x,K,w,K,0,y2,N); double t3=now();
  double fl=2.0*M*N*K; double md=0, mx=0; for(long i=0;i<(long)M*N;i++){double d=y[i]-y2[i]; if(d<0)d=-d; if(d>md)md=d; double a=y2[i]<0?-y2[i]:y2[i]; if(a>mx)mx=a;}
  printf("M%d N%d K%d: bf16 %.0f GFLOP/s  sgemm %.0f GFLOP/s  max|diff| %.3g (max|y| %.3g)\n",M,N,K,fl*reps/(t1-t0)/1e9,fl*reps/(t3-t2)/1e9,md,mx);
  return 0;
}
